/**
 * The per-run exactly-once bookkeeping, driven through the crash states a kill -9 can leave behind:
 * a pending mark whose effect happened, a pending mark whose effect did not, a finished command.
 */
import assert from "node:assert/strict";
import {
  alreadyDone,
  applyToRunOnce,
  COMMAND_MARKS_KEY,
  fingerprint,
  isNewOnRun,
  markPendingRange,
  RunNotFoundError,
} from "../../src/runner/run_once.ts";
import type { RunState } from "../../src/runtime/types.ts";
import { isoUtc } from "../../src/util/time.ts";
import { openHarness } from "./harness.ts";

const marks = (run: RunState) => (run.vars._runtime as Record<string, unknown>)[COMMAND_MARKS_KEY];

Deno.test("applyToRunOnce: redo an effect that did not happen, skip one that did or is done", async () => {
  const h = await openHarness("sqlite", { startRunner: false });
  try {
    const run = await h.runtime.start({
      workflowId: "test:wait_until",
      vars: { until: isoUtc(new Date(Date.now() + 60_000)) },
    });
    await h.runtime.tick(run.run_id);
    let calls = 0;
    const pause = async () => {
      calls++;
      await h.runtime.pause(run.run_id, "x");
    };

    // A crash right after the pending mark: the run is unchanged, so the effect runs.
    const crashed = (await h.stores.runs.load(run.run_id))!;
    const fp = fingerprint(crashed);
    (crashed.vars._runtime as Record<string, unknown>)[COMMAND_MARKS_KEY] = {
      last_seq: 0,
      pending: { seq: 5, fingerprint: fp },
    };
    await h.stores.runs.save(crashed);
    assert.equal(await applyToRunOnce(h.stores, run.run_id, 5, pause), "applied");
    assert.equal(calls, 1);
    // No second "done" save: the pending mark, whose fingerprint the effect changed, says it.
    assert.deepEqual(marks((await h.stores.runs.load(run.run_id))!), {
      last_seq: 0,
      pending: { seq: 5, fingerprint: fp },
    });
    assert.ok(alreadyDone((await h.stores.runs.load(run.run_id))!, 4));

    // Done commands (seq <= last_seq) are skipped.
    assert.equal(await applyToRunOnce(h.stores, run.run_id, 5, pause), "skipped");
    assert.equal(await applyToRunOnce(h.stores, run.run_id, 3, pause), "skipped");
    assert.equal(calls, 1);

    // A crash after the effect but before the final mark: the fingerprint differs, so skip.
    const after = (await h.stores.runs.load(run.run_id))!;
    (after.vars._runtime as Record<string, unknown>)[COMMAND_MARKS_KEY] = {
      last_seq: 5,
      pending: { seq: 6, fingerprint: fp }, // taken before the pause: paused flag was false
    };
    await h.stores.runs.save(after);
    assert.equal(await applyToRunOnce(h.stores, run.run_id, 6, pause), "skipped");
    assert.equal(calls, 1);

    // An effect that throws is marked done too (failed commands are not retried) and rethrows.
    await assert.rejects(
      applyToRunOnce(h.stores, run.run_id, 7, () => Promise.reject(new Error("nope"))),
      /nope/,
    );
    assert.equal(await applyToRunOnce(h.stores, run.run_id, 7, pause), "skipped");
    assert.ok(alreadyDone((await h.stores.runs.load(run.run_id))!, 7));

    // A later command finds the earlier pending one done, without a save in between.
    const unpause = () => h.runtime.unpause(run.run_id).then(() => {});
    assert.equal(await applyToRunOnce(h.stores, run.run_id, 9, unpause), "applied");
    assert.equal(await applyToRunOnce(h.stores, run.run_id, 8, unpause), "skipped");
    assert.ok(alreadyDone((await h.stores.runs.load(run.run_id))!, 8));

    // A batch's failures marked pending at once (10..12): each is a retry, the next seqs are new.
    const batch = (await h.stores.runs.load(run.run_id))!;
    markPendingRange(batch, 10, 12);
    await h.stores.runs.save(batch);
    const saved = (await h.stores.runs.load(run.run_id))!;
    assert.ok(alreadyDone(saved, 9));
    for (const seq of [10, 11, 12]) assert.ok(!isNewOnRun(saved, seq) && !alreadyDone(saved, seq));
    assert.ok(isNewOnRun(saved, 13));
    let retries = 0;
    const fails = (_run: RunState) => {
      retries++;
      return Promise.reject(new Error("still not waiting"));
    };
    const seen: boolean[] = [];
    await assert.rejects(
      applyToRunOnce(
        h.stores,
        run.run_id,
        11,
        fails,
        (_err, retry) => Promise.resolve(void seen.push(retry)),
      ),
      /still not waiting/,
    );
    assert.deepEqual(seen, [true]); // a retry: the failure record may exist already
    assert.equal(retries, 1);
    await assert.rejects(applyToRunOnce(h.stores, "missing", 8, pause), RunNotFoundError);
  } finally {
    await h.dispose();
  }
});

Deno.test("CommandDrain: a command with a recorded outcome is never applied again", async () => {
  const h = await openHarness("file", { startRunner: false });
  try {
    const run = await h.runtime.start({ workflowId: "test:event_counter", vars: {} });
    await h.runtime.tick(run.run_id);
    const waiting = (await h.stores.runs.load(run.run_id))!;
    const append = (id: string, n: number) =>
      h.stores.commands.append({
        command_id: id,
        run_id: run.run_id,
        type: "resume",
        payload: { payload: { n }, wait_key: waiting.waiting!.wait_key },
        ts: isoUtc(),
        client_id: null,
      });
    const first = await append("c1", 1);
    // Simulates a crash after complete(): the outcome exists although the cursor is what it is.
    await h.stores.commands.complete({
      command_id: "c1",
      seq: first.seq,
      run_id: run.run_id,
      type: "resume",
      status: "applied",
      error: null,
      applied_at: isoUtc(),
    });
    await append("c2", 2);
    await h.runner.start();
    await h.runner.ready;
    const outcome = await h.outcome("c2");
    assert.equal(outcome.status, "applied");
    const done = await h.waitFor(
      run.run_id,
      (r) => Array.isArray(r.vars.received) && r.vars.received.length === 1,
    );
    assert.deepEqual(done.vars.received, [2]);
  } finally {
    await h.dispose();
  }
});
