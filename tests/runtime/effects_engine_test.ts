/** Effect execution: idempotent reuse, retries, handler errors, concurrent cancel, terminal effects. */
import assert from "node:assert/strict";
import type { EffectHandler, WorkflowSpec } from "../../src/runtime/spec.ts";
import type { Effect, JsonObject } from "../../src/runtime/types.ts";
import { idempotencyKey } from "../../src/runtime/engine/idempotency.ts";
import { ledgerOf, openHarness } from "./harness.ts";

/** A spec that runs `count` times a node emitting `effect`, then completes with vars.out. */
function repeatSpec(id: string, effect: Effect, count: number): WorkflowSpec {
  return {
    workflow_id: id,
    entry_node: "work",
    nodes: {
      work: (run) => {
        const n = Number(run.vars.n ?? 0) + 1;
        run.vars.n = n;
        return { node_id: "work", effect, next_node: n < count ? "work" : "done" };
      },
      done: (run) => ({
        node_id: "done",
        complete_output: { out: run.vars.out ?? null, n: run.vars.n ?? 0 },
      }),
    },
  };
}

Deno.test("idempotency keys: 32 hex, independent of key order; tool call ids are ignored", () => {
  const a = idempotencyKey("r", "n", { type: "x", payload: { a: 1, b: [1, { c: 2 }] }, result_key: null });
  const b = idempotencyKey("r", "n", { type: "x", payload: { b: [1, { c: 2 }], a: 1 }, result_key: "other" });
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.equal(a, b);
  assert.notEqual(
    a,
    idempotencyKey("r", "n2", { type: "x", payload: { a: 1, b: [1, { c: 2 }] }, result_key: null }),
  );
  const t1 = idempotencyKey("r", "n", {
    type: "tool_calls",
    payload: {
      tool_calls: [{ name: " read_file ", arguments: '{"p":1}', call_id: "c1" }],
      allowed_tools: ["b", "a", "a"],
    },
    result_key: null,
  });
  const t2 = idempotencyKey("r", "n", {
    type: "tool_calls",
    payload: {
      tool_calls: [{ name: "read_file", arguments: { p: 1 }, call_id: "c9" }],
      allowed_tools: ["a", "b"],
    },
    result_key: null,
  });
  assert.equal(t1, t2);
});

Deno.test("an identical effect re-run in a loop reuses the completed result (no second execution or record)", async () => {
  let calls = 0;
  const count: EffectHandler = () => Promise.resolve({ status: "completed", result: { call: ++calls } });
  const effect = { type: "count", payload: { same: true }, result_key: "out" };
  const h = await openHarness({
    specs: new Map([["rep", repeatSpec("rep", effect, 3)]]),
    effectHandlers: { count },
  });
  try {
    const run = await h.runtime.start({ workflowId: "rep", vars: {} });
    const done = await h.runtime.tick(run.run_id);
    assert.equal(done.status, "completed");
    assert.deepEqual(done.output, { out: { call: 1 }, n: 3 });
    assert.equal(calls, 1);
    const ledger = await ledgerOf(h, run.run_id);
    assert.deepEqual(ledger.map((r) => r.status), ["started", "completed", "completed", "completed"]);
    const steps = ((done.vars._runtime as JsonObject).node_traces as JsonObject).work as {
      steps: JsonObject[];
    };
    assert.deepEqual(steps.steps.map((s) => s.reused_prior_result), [false, true, true]);
    assert.equal(typeof steps.steps[0].duration_ms, "number");
  } finally {
    await h.close();
  }
});

Deno.test("retries: a failing attempt gets its own started/failed pair; the final error names the attempts", async () => {
  let calls = 0;
  const flaky: EffectHandler = () =>
    Promise.resolve(
      ++calls === 1 ? { status: "failed", error: "transient" } : { status: "completed", result: "ok" },
    );
  const never: EffectHandler = () => Promise.resolve({ status: "failed", error: "down" });
  const h = await openHarness({
    specs: new Map([
      ["flaky", repeatSpec("flaky", { type: "flaky", payload: {}, result_key: "out" }, 1)],
      ["never", repeatSpec("never", { type: "never", payload: {}, result_key: "out" }, 1)],
    ]),
    effectHandlers: { flaky, never },
    retryPolicy: { maxAttempts: () => 2, backoffSeconds: () => 0 },
  });
  try {
    const ok = await h.runtime.tick((await h.runtime.start({ workflowId: "flaky", vars: {} })).run_id);
    assert.equal(ok.status, "completed");
    const ledger = await ledgerOf(h, ok.run_id);
    assert.deepEqual(ledger.slice(0, 4).map((r) => [r.status, r.attempt]), [["started", 1], ["failed", 1], [
      "started",
      2,
    ], ["completed", 2]]);
    assert.notEqual(ledger[0].step_id, ledger[2].step_id);
    const bad = await h.runtime.tick((await h.runtime.start({ workflowId: "never", vars: {} })).run_id);
    assert.equal(bad.status, "failed");
    assert.equal(bad.error, "Effect failed after 2 attempts: down");
  } finally {
    await h.close();
  }
});

Deno.test("missing handler, throwing handler: clear failures; terminal effect completes with {success, result}", async () => {
  const boom: EffectHandler = () => Promise.reject(new Error("boom"));
  const fine: EffectHandler = () => Promise.resolve({ status: "completed", result: { v: 1 } });
  const terminal: WorkflowSpec = {
    workflow_id: "terminal",
    entry_node: "a",
    nodes: { a: () => ({ node_id: "a", effect: { type: "fine", payload: {}, result_key: null } }) },
  };
  const h = await openHarness({
    specs: new Map<string, WorkflowSpec>([
      ["nohandler", repeatSpec("nohandler", { type: "nope", payload: {}, result_key: null }, 1)],
      ["boom", repeatSpec("boom", { type: "boom", payload: {}, result_key: null }, 1)],
      ["terminal", terminal],
    ]),
    effectHandlers: { boom, fine },
  });
  try {
    const a = await h.runtime.tick((await h.runtime.start({ workflowId: "nohandler", vars: {} })).run_id);
    assert.equal(a.error, "Effect failed after 1 attempts: No effect handler registered for nope"); // upstream wording
    const b = await h.runtime.tick((await h.runtime.start({ workflowId: "boom", vars: {} })).run_id);
    assert.equal(b.error, "Effect failed after 1 attempts: Effect handler raised exception: Error: boom");
    const failedRecord = (await ledgerOf(h, b.run_id))[1];
    assert.equal(failedRecord.status, "failed");
    assert.equal(failedRecord.error, "Effect handler raised exception: Error: boom"); // the attempt's own error
    const c = await h.runtime.tick((await h.runtime.start({ workflowId: "terminal", vars: {} })).run_id);
    assert.deepEqual(c.output, { success: true, result: { v: 1 } });
    assert.deepEqual((await ledgerOf(h, c.run_id)).map((r) => r.status), [
      "started",
      "completed",
      "completed",
    ]);
    await assert.rejects(h.runtime.start({ workflowId: "missing", vars: {} }), /Unknown workflow 'missing'/);
    await assert.rejects(
      h.runtime.start({ workflowId: "terminal", vars: {}, runId: c.run_id }),
      /Run already exists/,
    );
  } finally {
    await h.close();
  }
});

Deno.test("a cancel that lands while an effect runs wins: tick stops without overwriting the run", async () => {
  const h = await openHarness({
    specs: new Map([[
      "slowc",
      repeatSpec("slowc", { type: "cancel_me", payload: {}, result_key: "out" }, 2),
    ]]),
    effectHandlers: {
      cancel_me: async ({ run }) => {
        await h.runtime.cancel(run.run_id, "user stop");
        return { status: "completed", result: 1 };
      },
    },
  });
  try {
    const run = await h.runtime.start({ workflowId: "slowc", vars: {} });
    const after = await h.runtime.tick(run.run_id);
    assert.equal(after.status, "cancelled");
    assert.equal(after.error, "user stop");
    const stored = (await h.stores.runs.load(run.run_id))!;
    assert.equal(stored.status, "cancelled");
    assert.equal(stored.vars.out, undefined);
    const statuses = (await ledgerOf(h, run.run_id)).map((r) =>
      r.idempotency_key?.startsWith("system:") ? r.idempotency_key : r.status
    );
    assert.deepEqual(statuses, ["started", "system:terminal_status:cancelled", "completed"]);
  } finally {
    await h.close();
  }
});

Deno.test("a wait without resume_to_node completes the run on resume (via resume record)", async () => {
  const spec: WorkflowSpec = {
    workflow_id: "lastwait",
    entry_node: "ask",
    nodes: {
      ask: () => ({
        node_id: "ask",
        effect: { type: "ask_user", payload: { prompt: "ok?" }, result_key: "answer" },
      }),
    },
  };
  const h = await openHarness({ specs: new Map([["lastwait", spec]]) });
  try {
    const run = await h.runtime.start({ workflowId: "lastwait", vars: {} });
    const waiting = await h.runtime.tick(run.run_id);
    assert.equal(waiting.waiting?.resume_to_node, null);
    const done = await h.runtime.resume(run.run_id, { payload: { response: "yes" } });
    assert.equal(done.status, "completed");
    assert.deepEqual(done.output, { success: true, result: { response: "yes" } });
    assert.deepEqual(done.vars.answer, { response: "yes" });
    const ledger = await ledgerOf(h, run.run_id);
    assert.deepEqual(ledger.at(-2)?.result, {
      completed: true,
      via: "resume",
      wait_reason: "user",
      wait_key: `user:${run.run_id}:ask`,
      output: { success: true, result: { response: "yes" } },
    });
  } finally {
    await h.close();
  }
});

Deno.test("a tool_calls wait answered with executed results gets a synthetic completed record (same key)", async () => {
  const spec: WorkflowSpec = {
    workflow_id: "tools",
    entry_node: "act",
    nodes: {
      act: () => ({
        node_id: "act",
        effect: {
          type: "tool_calls",
          payload: { tool_calls: [{ name: "ls", arguments: {} }] },
          result_key: "res",
        },
        next_node: "done",
      }),
      done: (run) => ({ node_id: "done", complete_output: { res: run.vars.res ?? null } }),
    },
  };
  const passthrough: EffectHandler = ({ run }) =>
    Promise.resolve({
      status: "waiting",
      wait: {
        reason: "event",
        wait_key: `tool_calls:${run.run_id}:act`,
        until: null,
        resume_to_node: null,
        result_key: null,
        prompt: null,
        choices: null,
        allow_free_text: true,
        details: null,
      },
    });
  const h = await openHarness({
    specs: new Map([["tools", spec]]),
    effectHandlers: { tool_calls: passthrough },
  });
  try {
    const run = await h.runtime.start({ workflowId: "tools", vars: {} });
    const waiting = await h.runtime.tick(run.run_id);
    assert.equal(
      waiting.waiting?.resume_to_node,
      "done",
      "the plan's next node is the default resume target",
    );
    assert.equal(waiting.waiting?.result_key, "res");
    const results = {
      mode: "executed",
      results: [{ call_id: "c1", name: "ls", success: true, output: "a.txt" }],
    };
    const done = await h.runtime.resume(run.run_id, { payload: results });
    assert.deepEqual(done.output, { res: results });
    const ledger = await ledgerOf(h, run.run_id);
    assert.deepEqual(ledger.map((r) => [r.status, r.effect?.type ?? null]), [
      ["started", "tool_calls"],
      ["waiting", "tool_calls"],
      ["completed", "tool_calls"],
      ["completed", "resume"],
      ["completed", null],
      ["completed", "emit_event"],
    ]);
    assert.equal(ledger[2].idempotency_key, ledger[1].idempotency_key);
    assert.deepEqual(ledger[2].result, results);
  } finally {
    await h.close();
  }
});
