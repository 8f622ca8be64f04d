/**
 * pause and cancel against a tick in flight: the tick's next checkpoint must not overwrite what the
 * command wrote (real runner, real stores; `test:spin` saves the run every few steps of a long tick).
 */
import assert from "node:assert/strict";
import type { RunState } from "../../src/runtime/types.ts";
import { type Harness, openHarness } from "./harness.ts";

const steps = (run: RunState) => Number(run.vars.steps ?? 0);
const paused = (run: RunState) =>
  (run.vars._runtime as { control?: { paused?: boolean } } | undefined)?.control?.paused === true;

for (const backend of ["file", "sqlite"] as const) {
  const t = (name: string, fn: (h: Harness) => Promise<void>) =>
    Deno.test(`[${backend}] ${name}`, async () => {
      const h = await openHarness(backend, { env: { ABSTRACTGATEWAY_TICK_MAX_STEPS: "100000" } });
      try {
        await fn(h);
      } finally {
        await h.dispose();
      }
    });

  t("cancel during a tick in flight is not overwritten by its next step", async (h) => {
    const run = await h.start("test:spin", { limit: 100_000 });
    await h.waitFor(run.run_id, (r) => steps(r) >= 20);
    const cancel = await h.command("cancel", run.run_id, { reason: "stop" });
    assert.equal((await h.outcome(cancel, 10_000)).status, "applied");
    const after = (await h.stores.runs.load(run.run_id))!;
    assert.equal(after.status, "cancelled");
    await h.runner.stop(); // lets the tick in flight end: nothing it writes may undo the cancel
    const final = (await h.stores.runs.load(run.run_id))!;
    assert.equal(final.status, "cancelled", `the tick overwrote the cancel at step ${steps(final)}`);
    assert.equal(steps(final), steps(after));
  });

  t("pause during a tick in flight holds the run where it stopped", async (h) => {
    const run = await h.start("test:spin", { limit: 100_000 });
    await h.waitFor(run.run_id, (r) => steps(r) >= 20);
    const pause = await h.command("pause", run.run_id, {});
    assert.equal((await h.outcome(pause, 10_000)).status, "applied");
    const after = (await h.stores.runs.load(run.run_id))!;
    assert.ok(paused(after), "paused once the command is applied");
    await h.runner.stop();
    const final = (await h.stores.runs.load(run.run_id))!;
    assert.ok(paused(final), `the tick overwrote the pause at step ${steps(final)}`);
    assert.equal(final.status, "waiting");
    assert.equal(steps(final), steps(after));
  });
}

Deno.test("[sqlite] steps without an effect that end the run are saved once, with its end", async () => {
  const h = await openHarness("sqlite", { startRunner: false });
  try {
    const run = await h.start("test:spin", { limit: 5 });
    let saves = 0;
    const off = h.stores.wake.subscribe(`run:${run.run_id}`, () => saves++);
    await h.runner.start();
    const done = await h.waitFor(run.run_id, (r) => r.status === "completed");
    off();
    assert.equal(steps(done), 5);
    assert.equal(saves, 1, "one run write for the five steps and the completion");
  } finally {
    await h.dispose();
  }
});
