/**
 * The crash window of resume / cancel / terminal transitions: records are appended before the run is
 * saved (so a client that sees the saved state and re-reads the ledger gets every record). A crash in
 * between is simulated by a run store whose next matching save fails (or, where runs end in one write,
 * by that write failing); the redo through a healthy runtime on the same stores must not append the
 * synthetic records a second time.
 */
import assert from "node:assert/strict";
import type { WorkflowSpec } from "../../src/runtime/spec.ts";
import type { JsonObject, RunState, StepRecord } from "../../src/runtime/types.ts";
import { WorkflowRuntime } from "../../src/runtime/workflow_runtime.ts";
import type { Stores } from "../../src/store/types.ts";
import { loadConfig } from "../../src/config/config.ts";
import { type Harness, ledgerOf, openHarness } from "./harness.ts";

const CRASH = "simulated crash before the run save";

/**
 * A runtime on `h`'s stores whose first run save matching `when` throws, as if the process died there.
 * Where the store ends a run in one write (`ledger.appendWithRun`, SQLite), that write is the one that
 * fails: the crash then lands before the terminal records and the run state, both unwritten.
 */
function crashingRuntime(h: Harness, when: (run: RunState) => boolean): WorkflowRuntime {
  let crashed = false;
  const crashing = <T extends object>(real: T, method: string) =>
    new Proxy(real, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        if (prop !== method) return value.bind(target);
        return (run: RunState, ...rest: unknown[]) => {
          if (!crashed && when(run)) {
            crashed = true;
            return Promise.reject(new Error(CRASH));
          }
          return value.call(target, run, ...rest);
        };
      },
    });
  const stores: Stores = {
    ...h.stores,
    runs: crashing(h.stores.runs, "save"),
    ledger: crashing(h.stores.ledger, "appendWithRun"),
    close: () => Promise.resolve(),
  };
  return new WorkflowRuntime({
    stores,
    workflows: { getWorkflow: () => undefined },
    config: loadConfig({ ABSTRACTGATEWAY_DATA_DIR: h.dir }),
    specs: SPECS,
  });
}

/**
 * ask_then_end: ask (user wait) → end (complete_output). ask_last: a wait with no next node, so the
 * resume completes the run. ask_loop: asks twice on the same wait key, identical answers allowed.
 */
const SPECS = new Map<string, WorkflowSpec>([
  ["ask_then_end", {
    workflow_id: "ask_then_end",
    entry_node: "ask",
    nodes: {
      ask: () => ({
        node_id: "ask",
        effect: { type: "ask_user", payload: { prompt: "Name?" }, result_key: "answer" },
        next_node: "end",
      }),
      end: (run) => ({
        node_id: "end",
        complete_output: { greeting: `hi ${JSON.stringify(run.vars.answer)}` },
      }),
    },
  }],
  ["ask_last", {
    workflow_id: "ask_last",
    entry_node: "ask",
    nodes: {
      ask: () => ({
        node_id: "ask",
        effect: { type: "ask_user", payload: { prompt: "Name?" }, result_key: null },
      }),
    },
  }],
  ["ask_loop", {
    workflow_id: "ask_loop",
    entry_node: "ask",
    nodes: {
      ask: () => ({
        node_id: "ask",
        effect: { type: "ask_user", payload: { prompt: "Again?", wait_key: "same" }, result_key: "answer" },
        next_node: "count",
      }),
      count: (run) => {
        const n = Number(run.vars.n ?? 0) + 1;
        run.vars.n = n;
        return { node_id: "count", next_node: n < 2 ? "ask" : "end" };
      },
      end: (run) => ({ node_id: "end", complete_output: { n: run.vars.n ?? null, answer: run.vars.answer } }),
    },
  }],
]);

const shape = (ledger: StepRecord[]) =>
  ledger.map((
    r,
  ) => [
    r.node_id,
    r.status,
    r.effect?.type ?? null,
    r.idempotency_key?.startsWith("system:") ? r.idempotency_key : null,
  ]);
const resumes = (ledger: StepRecord[]) => ledger.filter((r) => r.effect?.type === "resume");
const statusRecords = (ledger: StepRecord[]) =>
  ledger.filter((r) => r.idempotency_key?.startsWith("system:terminal_status:"));

async function waitingRun(h: Harness, workflowId: string): Promise<RunState> {
  const started = await h.runtime.start({ workflowId, vars: {} });
  const run = await h.runtime.tick(started.run_id);
  assert.equal(run.status, "waiting");
  return run;
}

for (const backend of ["file", "sqlite"] as const) {
  const test = (name: string, body: (h: Harness) => Promise<void>) =>
    Deno.test(`[${backend}] ${name}`, async () => {
      const h = await openHarness({ backend, specs: SPECS });
      try {
        await body(h);
      } finally {
        await h.close();
      }
    });

  test("resume redone after a crash before the run save: one resume record, run continues", async (h) => {
    const run = await waitingRun(h, "ask_then_end");
    const wait = run.waiting!;
    const crashing = crashingRuntime(h, (r) => r.status === "running");
    await assert.rejects(crashing.resume(run.run_id, { payload: { name: "Ada" } }), new RegExp(CRASH));
    assert.equal((await h.stores.runs.load(run.run_id))!.status, "waiting", "the run was not saved");
    assert.equal(resumes(await ledgerOf(h, run.run_id)).length, 1, "the resume record was appended");

    const done = await h.runtime.resume(run.run_id, { waitKey: wait.wait_key!, payload: { name: "Ada" } });
    assert.equal(done.status, "completed", done.error ?? "");
    assert.deepEqual(done.output, { greeting: 'hi {"name":"Ada"}' });
    const ledger = await ledgerOf(h, run.run_id);
    assert.deepEqual(shape(ledger), [
      ["ask", "started", "ask_user", null],
      ["ask", "waiting", "ask_user", null],
      ["ask", "completed", "resume", null],
      ["end", "completed", null, null],
      ["end", "completed", "emit_event", "system:terminal_status:completed"],
    ]);
  });

  test("a resume that completes the run, redone after the crash: one resume, completion and status record", async (h) => {
    const run = await waitingRun(h, "ask_last");
    const crashing = crashingRuntime(h, (r) => r.status === "completed");
    await assert.rejects(crashing.resume(run.run_id, { payload: { name: "Ada" } }), new RegExp(CRASH));
    assert.equal((await h.stores.runs.load(run.run_id))!.status, "waiting");

    const done = await h.runtime.resume(run.run_id, { payload: { name: "Ada" } });
    assert.equal(done.status, "completed");
    assert.deepEqual(done.output, { success: true, result: { name: "Ada" } });
    assert.deepEqual((await h.stores.runs.load(run.run_id))!.output, done.output);
    assert.deepEqual(shape(await ledgerOf(h, run.run_id)), [
      ["ask", "started", "ask_user", null],
      ["ask", "waiting", "ask_user", null],
      ["ask", "completed", "resume", null],
      ["ask", "completed", null, null],
      ["ask", "completed", "emit_event", "system:terminal_status:completed"],
    ]);
  });

  test("a different answer after the crash is recorded: the ledger shows the resume that took effect", async (h) => {
    const run = await waitingRun(h, "ask_then_end");
    const crashing = crashingRuntime(h, (r) => r.status === "running");
    await assert.rejects(crashing.resume(run.run_id, { payload: { name: "Ada" } }), new RegExp(CRASH));
    const done = await h.runtime.resume(run.run_id, { payload: { name: "Bob" } });
    assert.deepEqual(done.output, { greeting: 'hi {"name":"Bob"}' });
    const answers = resumes(await ledgerOf(h, run.run_id)).map((r) =>
      (r.effect!.payload as JsonObject).payload
    );
    assert.deepEqual(answers, [{ name: "Ada" }, { name: "Bob" }]);
  });

  test("a later wait on the same key takes the same answer again: the dedupe looks after the newest wait only", async (h) => {
    const run = await waitingRun(h, "ask_loop");
    const again = await h.runtime.resume(run.run_id, { payload: { v: 1 } });
    assert.equal(again.status, "waiting");
    assert.equal(again.waiting!.wait_key, "same");
    const done = await h.runtime.resume(run.run_id, { payload: { v: 1 } });
    assert.deepEqual(done.output, { n: 2, answer: { v: 1 } });
    assert.equal(resumes(await ledgerOf(h, run.run_id)).length, 2);
  });

  test("cancel redone after a crash before the run save: one cancelled status record", async (h) => {
    const run = await waitingRun(h, "ask_then_end");
    const crashing = crashingRuntime(h, (r) => r.status === "cancelled");
    await assert.rejects(crashing.cancel(run.run_id, "stop"), new RegExp(CRASH));
    assert.equal((await h.stores.runs.load(run.run_id))!.status, "waiting");
    assert.equal(statusRecords(await ledgerOf(h, run.run_id)).length, 1);

    const cancelled = await h.runtime.cancel(run.run_id, "stop");
    assert.equal(cancelled.status, "cancelled");
    assert.equal(cancelled.error, "stop");
    assert.equal(cancelled.waiting, null);
    assert.equal((await h.stores.runs.load(run.run_id))!.status, "cancelled");
    const records = statusRecords(await ledgerOf(h, run.run_id));
    assert.deepEqual(records.map((r) => r.idempotency_key), ["system:terminal_status:cancelled"]);
    assert.deepEqual(records[0].result, {
      emitted: true,
      name: "abstract.status",
      payload: { text: "cancelled" },
    });
  });

  test("completion redone by the next tick after a crash before the run save: one completion and status record", async (h) => {
    const run = await waitingRun(h, "ask_then_end");
    const crashing = crashingRuntime(h, (r) => r.status === "completed");
    await assert.rejects(crashing.resume(run.run_id, { payload: { name: "Ada" } }), new RegExp(CRASH));
    const stuck = (await h.stores.runs.load(run.run_id))!;
    assert.equal(stuck.status, "running");
    assert.equal(stuck.current_node, "end");

    const done = await h.runtime.tick(run.run_id);
    assert.equal(done.status, "completed");
    assert.deepEqual(done.output, { greeting: 'hi {"name":"Ada"}' });
    const ledger = await ledgerOf(h, run.run_id);
    assert.equal(ledger.filter((r) => r.node_id === "end").length, 2, JSON.stringify(shape(ledger)));
    assert.equal(statusRecords(ledger).length, 1);
  });
}
