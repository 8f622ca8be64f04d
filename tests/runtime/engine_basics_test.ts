import assert from "node:assert/strict";
import { ledgerOf, openHarness, pins, visualFlow } from "./harness.ts";

const start = (outputs: string[], pinDefaults = {}) => ({ ...pins([], outputs), inputs: [], pinDefaults });

for (const backend of ["file", "sqlite"] as const) {
  Deno.test(`[${backend}] ask_user → resume → completes with on_flow_end output; ledger shape as upstream`, async () => {
    const flow = visualFlow("askflow", [
      ["start", "on_flow_start", start(["question"])],
      ["ask", "ask_user", pins(["prompt"], ["response"])],
      ["end", "on_flow_end", {
        inputs: [{ id: "exec-in", type: "execution" }, { id: "answer", type: "string" }],
        outputs: [],
      }],
    ], [
      "start:exec-out->ask:exec-in",
      "start:question->ask:prompt",
      "ask:exec-out->end:exec-in",
      "ask:response->end:answer",
    ]);
    const h = await openHarness({ flows: [flow], backend });
    try {
      const run = await h.runtime.start({ workflowId: "askflow", vars: { question: "Name?" } });
      assert.equal(run.session_id, run.run_id);
      assert.deepEqual((run.vars._limits as Record<string, unknown>).max_iterations, 50);
      const waiting = await h.runtime.tick(run.run_id);
      assert.equal(waiting.status, "waiting");
      assert.equal(waiting.waiting?.reason, "user");
      assert.equal(waiting.waiting?.wait_key, `user:${run.run_id}:ask`);
      assert.equal(waiting.waiting?.prompt, "Name?");
      assert.equal(waiting.waiting?.resume_to_node, "end");
      await assert.rejects(
        h.runtime.resume(run.run_id, { waitKey: "nope", payload: { response: "x" } }),
        /wait_key mismatch/,
      );
      const done = await h.runtime.resume(run.run_id, { payload: { response: "Ada" } });
      assert.equal(done.status, "completed");
      assert.deepEqual(done.output, { answer: "Ada", success: true });
      await assert.rejects(h.runtime.resume(run.run_id, { payload: {} }), /Run is not waiting/);

      const ledger = await ledgerOf(h, run.run_id);
      assert.deepEqual(ledger.map((r) => [r.node_id, r.status, r.effect?.type ?? null]), [
        ["ask", "started", "ask_user"],
        ["ask", "waiting", "ask_user"],
        ["ask", "completed", "resume"],
        ["end", "completed", null],
        ["end", "completed", "emit_event"],
      ]);
      assert.equal(ledger[0].step_id, ledger[1].step_id);
      assert.equal(ledger[0].idempotency_key, ledger[1].idempotency_key);
      assert.match(ledger[0].idempotency_key!, /^[0-9a-f]{32}$/);
      assert.deepEqual(ledger[0].effect?.payload, {
        type: "ask_user",
        prompt: "Name?",
        choices: [],
        allow_free_text: true,
        resume_to_node: "end",
      });
      assert.deepEqual(Object.keys(ledger[0]), [
        "run_id",
        "step_id",
        "node_id",
        "status",
        "effect",
        "result",
        "error",
        "started_at",
        "ended_at",
        "actor_id",
        "session_id",
        "attempt",
        "idempotency_key",
        "prev_hash",
        "record_hash",
        "signature",
      ]);
      assert.equal(ledger[0].ended_at, null);
      assert.deepEqual(ledger[2].result, { resumed: true });
      assert.deepEqual(ledger[2].effect?.payload, {
        wait_reason: "user",
        wait_key: `user:${run.run_id}:ask`,
        resume_to_node: "end",
        result_key: "_temp.effects.ask",
        payload: { response: "Ada" },
      });
      assert.deepEqual(ledger[3].result, { completed: true, output: { answer: "Ada", success: true } });
      assert.equal(ledger[4].idempotency_key, "system:terminal_status:completed");
      assert.deepEqual(ledger[4].result, {
        emitted: true,
        name: "abstract.status",
        payload: { text: "completed" },
      });
      assert.match(ledger[4].started_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    } finally {
      await h.close();
    }
  });
}

Deno.test("an unsupported reachable node fails the run naming it; unsupported orphans are ignored", async () => {
  const flow = visualFlow("media", [
    ["start", "on_flow_start", start([])],
    ["img", "generate_music", pins(["prompt"], ["image_artifact"])],
    ["orphan", "code", pins([], [])],
  ], ["start:exec-out->img:exec-in"]);
  const h = await openHarness({ flows: [flow] });
  try {
    const run = await h.runtime.start({ workflowId: "media", vars: {} });
    const failed = await h.runtime.tick(run.run_id);
    assert.equal(failed.status, "failed");
    assert.equal(failed.error, "Unsupported node type 'generate_music' (node img)");
    const ledger = await ledgerOf(h, run.run_id);
    assert.equal(ledger[0].status, "failed");
    assert.equal(ledger[0].node_id, "img");
    assert.equal(ledger[0].error, "Unsupported node type 'generate_music' (node img)");
    assert.equal(ledger[1].idempotency_key, "system:terminal_status:failed");
  } finally {
    await h.close();
  }
});

Deno.test("pause/unpause/cancel: synthetic pause wait, resume refused while paused, cancel record", async () => {
  const flow = visualFlow("p", [
    ["start", "on_flow_start", start([])],
    ["ask", "ask_user", pins(["prompt"], ["response"])],
  ], ["start:exec-out->ask:exec-in"]);
  const h = await openHarness({ flows: [flow] });
  try {
    const run = await h.runtime.start({ workflowId: "p", vars: {} });
    const paused = await h.runtime.pause(run.run_id, "hold on");
    assert.equal(paused.status, "waiting");
    assert.equal(paused.waiting?.wait_key, `pause:${run.run_id}`);
    assert.equal(paused.waiting?.prompt, "Paused");
    assert.equal(paused.waiting?.allow_free_text, false);
    assert.equal((await h.runtime.tick(run.run_id)).status, "waiting");
    await assert.rejects(h.runtime.resume(run.run_id, { payload: {} }), /Run is paused/);
    const unpaused = await h.runtime.unpause(run.run_id);
    assert.equal(unpaused.status, "running");
    assert.equal(unpaused.current_node, "start");
    const waiting = await h.runtime.tick(run.run_id);
    assert.equal(waiting.waiting?.reason, "user");
    const cancelled = await h.runtime.cancel(run.run_id, "");
    assert.equal(cancelled.status, "cancelled");
    assert.equal(cancelled.error, "Cancelled");
    assert.equal(cancelled.waiting, null);
    const ledger = await ledgerOf(h, run.run_id);
    assert.equal(ledger.at(-1)?.idempotency_key, "system:terminal_status:cancelled");
    assert.equal((await h.runtime.cancel(run.run_id, "again")).error, "Cancelled");
  } finally {
    await h.close();
  }
});
