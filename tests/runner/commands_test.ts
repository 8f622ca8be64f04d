/** Command semantics against the real stores (file and SQLite) and the real WorkflowRuntime. */
import assert from "node:assert/strict";
import { isoUtc } from "../../src/util/time.ts";
import type { RunState } from "../../src/runtime/types.ts";
import { COMPACT_MEMORY_UNSUPPORTED } from "../../src/runner/commands.ts";
import { type Harness, openHarness, sleep } from "./harness.ts";

const control = (run: RunState) =>
  (run.vars._runtime as { control?: Record<string, unknown> } | undefined)?.control ?? {};
const received = (run: RunState) => (run.vars.received as unknown[] | undefined) ?? [];

async function ledgerKeys(h: Harness, runId: string): Promise<(string | null)[]> {
  return (await h.stores.ledger.read(runId, 0, 10_000)).items.map((r) => r.idempotency_key);
}

for (const backend of ["file", "sqlite"] as const) {
  const t = (name: string, fn: (h: Harness) => Promise<void>) =>
    Deno.test(`[${backend}] ${name}`, async () => {
      const h = await openHarness(backend);
      try {
        await fn(h);
      } finally {
        await h.dispose();
      }
    });

  t("pause / resume of a run waiting on a timer (scenario 26)", async (h) => {
    const run = await h.start("test:wait_until", { until: isoUtc(new Date(Date.now() + 30_000)) });
    await h.waitFor(run.run_id, (r) => r.status === "waiting");
    const pause = await h.command("pause", run.run_id, { reason: "ops" });
    assert.equal((await h.outcome(pause)).status, "applied");
    let r = (await h.stores.runs.load(run.run_id))!;
    assert.equal(r.status, "waiting");
    assert.equal(r.waiting?.reason, "until");
    assert.equal(control(r).paused, true);
    assert.equal(control(r).pause_reason, "ops");
    assert.equal(typeof control(r).paused_at, "string");
    const resume = await h.command("resume", run.run_id, {});
    assert.equal((await h.outcome(resume)).status, "applied");
    r = (await h.stores.runs.load(run.run_id))!;
    assert.equal(control(r).paused, undefined);
    assert.equal(typeof control(r).resumed_at, "string");
  });

  t("a paused run does not advance until resumed", async (h) => {
    const run = await h.start("test:ticker");
    await h.waitFor(run.run_id, (r) => (r.vars.steps as number) >= 3);
    await h.outcome(await h.command("pause", run.run_id, {}));
    const frozen = (await h.stores.runs.load(run.run_id))!.vars.steps;
    await sleep(400);
    const still = (await h.stores.runs.load(run.run_id))!;
    assert.equal(still.vars.steps, frozen);
    assert.equal(still.status, "waiting");
    await h.outcome(await h.command("resume", run.run_id, {}));
    await h.waitFor(run.run_id, (r) => (r.vars.steps as number) >= (frozen as number) + 3);
  });

  t("pause lands during a long step without stalling the commands behind it", async (h) => {
    const slow = await h.start("test:slow", { ms: 1500 });
    const other = await h.start("test:event_counter");
    await h.waitFor(other.run_id, (r) => r.status === "waiting");
    // The engine appends a `started` record before running an effect: the 1.5 s step is under way.
    while ((await h.stores.ledger.count(slow.run_id)) === 0) await sleep(10);
    const started = Date.now();
    await h.outcome(await h.command("pause", slow.run_id, {}));
    await h.outcome(await h.command("cancel", other.run_id, {}));
    assert.ok(Date.now() - started < 1_000, "commands waited for the long step");
    assert.equal((await h.stores.runs.load(other.run_id))!.status, "cancelled");
    await sleep(1_600); // the step ends; the engine sees the pause and stops there
    const paused = (await h.stores.runs.load(slow.run_id))!;
    assert.equal(paused.status, "waiting");
    assert.equal(control(paused).paused, true);
    await h.outcome(await h.command("resume", slow.run_id, {}));
    await h.waitFor(slow.run_id, (r) => r.status === "completed", 5_000);
  });

  t("resume with payload answers the wait; a wrong wait_key fails visibly", async (h) => {
    const run = await h.start("test:event_counter");
    const waiting = await h.waitFor(run.run_id, (r) => r.status === "waiting");
    const wrong = await h.command("resume", run.run_id, { payload: { n: 1 }, wait_key: "nope" });
    const failed = await h.outcome(wrong);
    assert.equal(failed.status, "failed");
    assert.match(failed.error!, /wait_key mismatch/);
    assert.ok((await ledgerKeys(h, run.run_id)).includes(`command:${wrong}`));
    const bad = await h.outcome(await h.command("resume", run.run_id, { payload: "text" }));
    assert.equal(bad.error, "resume payload.payload must be an object");
    const ok = await h.command("resume", run.run_id, {
      payload: { n: 7 },
      wait_key: waiting.waiting!.wait_key,
    });
    assert.equal((await h.outcome(ok)).status, "applied");
    await h.waitFor(run.run_id, (r) => received(r).length === 1 && r.status === "waiting");
    assert.deepEqual(received((await h.stores.runs.load(run.run_id))!), [7]);
  });

  t("emit_event resumes every waiter; one paused waiter does not stop the others", async (h) => {
    const session = `sess-${crypto.randomUUID()}`;
    const runs = await Promise.all([1, 2, 3].map(() => h.start("test:event_counter", {}, session)));
    for (const r of runs) await h.waitFor(r.run_id, (x) => x.status === "waiting");
    await h.outcome(await h.command("pause", runs[1].run_id, {}));
    const emit = await h.command("emit_event", session, { name: "tick", payload: { n: 1 } });
    const outcome = await h.outcome(emit);
    assert.equal(outcome.status, "failed");
    assert.match(outcome.error!, /1 of 3 deliveries failed: .*Run is paused/);
    for (const r of [runs[0], runs[2]]) await h.waitFor(r.run_id, (x) => received(x).length === 1);
    assert.deepEqual(received((await h.stores.runs.load(runs[1].run_id))!), []);
    const none = await h.outcome(await h.command("emit_event", "nobody-listens", { name: "tick" }));
    assert.equal(none.status, "applied");
    const bad = await h.outcome(await h.command("emit_event", session, { scope: "run", name: "tick" }));
    assert.equal(bad.error, "emit_event with scope 'run' requires payload.run_id");
  });

  t("cancel stops the whole tree (scenario 27); a finished child resumes its parent", async (h) => {
    const parent = await h.start("test:parent", { child_workflow: "test:event_counter" });
    const waiting = await h.waitFor(parent.run_id, (r) => r.waiting?.reason === "subworkflow");
    const childId = waiting.waiting!.details!.sub_run_id as string;
    await h.outcome(await h.command("cancel", parent.run_id, {}));
    const p = (await h.stores.runs.load(parent.run_id))!;
    assert.equal(p.status, "cancelled");
    assert.equal(p.error, "Cancelled");
    assert.equal((await h.stores.runs.load(childId))!.status, "cancelled");

    const until = isoUtc(new Date(Date.now() + 100));
    const second = await h.start("test:parent", { child_workflow: "test:wait_until", child_vars: { until } });
    const done = await h.waitFor(second.run_id, (r) => r.status === "completed");
    assert.equal((done.output?.child as { output: { success: boolean } }).output.success, true);
  });

  t("compact_memory, unknown runs and unknown types fail with a recorded reason", async (h) => {
    const run = await h.start("test:event_counter");
    const compact = await h.command("compact_memory", run.run_id, {});
    const o = await h.outcome(compact);
    assert.equal(o.status, "failed");
    assert.equal(o.error, COMPACT_MEMORY_UNSUPPORTED);
    const rec = (await h.stores.ledger.read(run.run_id, 0, 1000)).items.find((r) =>
      r.idempotency_key === `command:${compact}`
    )!;
    assert.equal(rec.status, "failed");
    assert.equal(rec.node_id, "command");
    assert.deepEqual(rec.effect, {
      type: "command",
      payload: { command_id: compact, type: "compact_memory", seq: o.seq },
      result_key: null,
    });
    const missing = await h.outcome(await h.command("pause", "no-such-run", {}));
    assert.equal(missing.error, "Run 'no-such-run' not found");
  });

  t("a workflow that throws fails its run with the error", async (h) => {
    const run = await h.start("test:broken");
    const failed = await h.waitFor(run.run_id, (r) => r.status === "failed");
    assert.match(failed.error!, /boom/);
  });
}

Deno.test("wait_until fires on its timer, not on the poll", async () => {
  const h = await openHarness("sqlite", { env: { ABSTRACTGATEWAY_POLL_S: "30" } });
  try {
    const until = new Date(Date.now() + 400);
    const run = await h.start("test:wait_until", { until: isoUtc(until) });
    const done = await h.waitFor(run.run_id, (r) => r.status === "completed", 5_000);
    const lateMs = Date.parse(done.output!.fired_at as string) - until.getTime();
    assert.ok(lateMs >= 0 && lateMs < 1_000, `fired ${lateMs} ms after until with a 30 s poll`);
  } finally {
    await h.dispose();
  }
});
