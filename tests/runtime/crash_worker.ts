/**
 * Crash-test worker: `deno run -A crash_worker.ts <dataDir> <mode>` plays the runner on the file store
 * until the root run is terminal, then prints DONE.
 * - `start` / `continue`: the visual crash flow; prints WAITING while the root sleeps in wait_until.
 * - `slow-start`: the `slow` spec; its effect prints IN_EFFECT and never finishes (the test kills it).
 * - `slow-continue`: the `slow` spec with an effect that finishes at once.
 */
import type { EffectHandler } from "../../src/runtime/spec.ts";
import { isTerminal } from "../../src/runtime/types.ts";
import { nowIso } from "../../src/util/time.ts";
import { CRASH_RUN_ID, crashFlows, SLOW_RUN_ID, slowSpec } from "./crash_flow.ts";
import { openHarness } from "./harness.ts";

const [dir, mode] = Deno.args;
const say = (line: string) => Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));
const slowEffect: EffectHandler = async () => {
  say("IN_EFFECT");
  await new Promise((r) => setTimeout(r, 60_000));
  return { status: "completed", result: "late" };
};
const fastEffect: EffectHandler = () => Promise.resolve({ status: "completed", result: "rendered" });
const h = await openHarness({
  flows: crashFlows(),
  dir,
  specs: new Map([["slow", slowSpec()]]),
  effectHandlers: { slow_effect: mode === "slow-start" ? slowEffect : fastEffect },
});
const rootId = mode.startsWith("slow") ? SLOW_RUN_ID : CRASH_RUN_ID;
if (mode === "start") {
  await h.runtime.start({ workflowId: "crash-root", vars: { name: "Ada" }, runId: rootId });
}
if (mode === "slow-start") await h.runtime.start({ workflowId: "slow", vars: {}, runId: rootId });
let announced = false;
for (;;) {
  for (const runId of await h.stores.runs.listRunnable(nowIso(), 100, new Set())) {
    const after = await h.runtime.tick(runId);
    if (isTerminal(after.status)) await h.runtime.resumeParentsOf(after.run_id);
  }
  const root = await h.stores.runs.load(rootId);
  if (root && isTerminal(root.status)) break;
  if (root?.waiting?.reason === "until" && !announced) {
    announced = true;
    say("WAITING");
  }
  await new Promise((r) => setTimeout(r, 50));
}
say("DONE");
await h.close();
