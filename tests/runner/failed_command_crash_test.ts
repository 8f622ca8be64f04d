/**
 * A command whose effect failed must never be reported `applied` after a crash (issue 17): the run's
 * mark, the failure record and the outcome become durable together. The crash is injected at the
 * worst point — right after the run's mark for the command reached the store — by making every later
 * write of that runner fail, as a kill -9 would; a fresh runner on the same data dir then finishes
 * the job.
 */
import assert from "node:assert/strict";
import { COMMAND_MARKS_KEY } from "../../src/runner/run_once.ts";
import type { RunState } from "../../src/runtime/types.ts";
import { openHarness } from "./harness.ts";

/** The highest command seq the run's marks cover (done or pending). */
const markedSeq = (run: RunState): number => {
  const marks = (run.vars._runtime as Record<string, Record<string, unknown>> | undefined)
    ?.[COMMAND_MARKS_KEY];
  const pending = marks?.pending as { seq?: number } | null | undefined;
  return Math.max(Number(marks?.last_seq ?? 0), Number(pending?.seq ?? 0));
};

for (const backend of ["file", "sqlite"] as const) {
  Deno.test(`[${backend}] a failed command stays failed when the runner dies right after the run's mark`, async () => {
    const h = await openHarness(backend, { startRunner: false });
    const dir = h.dir;
    try {
      const run = await h.start("test:wait_until", { until: new Date(Date.now() + 600_000).toISOString() });
      await h.runtime.tick(run.run_id);
      // A resume with a payload for a wait the run is not in: the effect throws.
      await h.command("resume", run.run_id, { wait_key: "nope", payload: { x: 1 } });

      let dead = false;
      const die = () => {
        if (dead) throw new Error("crashed (simulated kill -9)");
      };
      const { runs, ledger, commands } = h.stores;
      const save = runs.save.bind(runs);
      runs.save = async (r) => {
        die();
        await save(r);
        if (r.run_id === run.run_id && markedSeq(r) > 0) dead = true;
      };
      const append = ledger.append.bind(ledger);
      ledger.append = (...args) => (die(), append(...args));
      const complete = commands.complete.bind(commands);
      commands.complete = (...args) => (die(), complete(...args));
      const completeMany = commands.completeMany.bind(commands);
      commands.completeMany = (...args) => (die(), completeMany(...args));
      await h.runner.start();
      const deadline = Date.now() + 5_000;
      while (!dead && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.ok(dead, "the runner never saved the run's mark");
      await h.close();
    } catch (err) {
      await h.dispose();
      throw err;
    }

    const after = await openHarness(backend, { dir });
    try {
      const outcome = await after.outcome((await after.stores.commands.listAfter(0, 10))[0].command_id);
      assert.equal(outcome.status, "failed", JSON.stringify(outcome));
      assert.match(outcome.error ?? "", /not waiting|wait/i);
    } finally {
      await after.dispose();
    }
  });
}
