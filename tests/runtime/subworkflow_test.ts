/** START_SUBWORKFLOW: async+wait parents resumed by resumeParentsOf; failed/cancelled children; sync mode. */
import assert from "node:assert/strict";
import type { StepPlan, WorkflowSpec } from "../../src/runtime/spec.ts";
import type { JsonObject } from "../../src/runtime/types.ts";
import { ledgerOf, openHarness } from "./harness.ts";

const parentSpec = (id: string, child: string, asyncWait: boolean): WorkflowSpec => ({
  workflow_id: id,
  entry_node: "call",
  nodes: {
    call: () => ({
      node_id: "call",
      effect: {
        type: "start_subworkflow",
        payload: {
          workflow_id: child,
          vars: { x: 2 },
          async: asyncWait,
          wait: asyncWait,
          include_traces: true,
        },
        result_key: "sub",
      },
      next_node: "done",
    }),
    done: (run) => ({ node_id: "done", complete_output: { sub: run.vars.sub ?? null } }),
  },
});

const childSpec = (id: string, outcome: "complete" | "fail" | "ask"): WorkflowSpec => ({
  workflow_id: id,
  entry_node: "a",
  nodes: {
    a: (run): StepPlan =>
      outcome === "complete"
        ? {
          node_id: "a",
          complete_output: { doubled: Number(run.vars.x) * 2, ws: run.vars.workspace_root ?? null },
        }
        : outcome === "ask"
        ? {
          node_id: "a",
          effect: { type: "ask_user", payload: { prompt: "?" }, result_key: null },
          next_node: "a",
        }
        : { node_id: "a", effect: { type: "answer_user", payload: {}, result_key: null }, next_node: null },
  },
});

function specs(): Map<string, WorkflowSpec> {
  return new Map<string, WorkflowSpec>([
    ["p-ok", parentSpec("p-ok", "c-ok", true)],
    ["p-fail", parentSpec("p-fail", "c-fail", true)],
    ["p-ask", parentSpec("p-ask", "c-ask", true)],
    ["p-sync", parentSpec("p-sync", "c-ok", false)],
    ["c-ok", childSpec("c-ok", "complete")],
    ["c-fail", childSpec("c-fail", "fail")],
    ["c-ask", childSpec("c-ask", "ask")],
  ]);
}

Deno.test("async+wait child: parent waits on subworkflow:<child>, resumed with {sub_run_id, output, node_traces}", async () => {
  const h = await openHarness({ specs: specs() });
  try {
    const parent = await h.runtime.start({
      workflowId: "p-ok",
      vars: { workspace_root: "/ws" },
      sessionId: "s",
    });
    const waiting = await h.runtime.tick(parent.run_id);
    assert.equal(waiting.waiting?.reason, "subworkflow");
    const childId = (waiting.waiting?.details as JsonObject).sub_run_id as string;
    assert.equal(waiting.waiting?.wait_key, `subworkflow:${childId}`);
    assert.deepEqual(await h.runtime.resumeParentsOf(childId), [], "child not terminal yet");
    const child = (await h.stores.runs.load(childId))!;
    assert.equal(child.parent_run_id, parent.run_id);
    assert.equal(child.session_id, "s");
    assert.equal(child.vars.workspace_root, "/ws", "workspace keys are inherited");
    await h.runtime.tick(childId);
    assert.deepEqual(await h.runtime.resumeParentsOf(childId), [parent.run_id]);
    const done = await h.runtime.tick(parent.run_id);
    assert.equal(done.status, "completed");
    const sub = (done.output as JsonObject).sub as JsonObject;
    assert.equal(sub.sub_run_id, childId);
    assert.deepEqual(sub.output, { doubled: 4, ws: "/ws" });
    assert.ok("node_traces" in sub);
  } finally {
    await h.close();
  }
});

Deno.test("a failed or cancelled child does not fail the parent: success:false envelope", async () => {
  const h = await openHarness({ specs: specs() });
  try {
    const p1 = await h.runtime.start({ workflowId: "p-fail", vars: {} });
    const c1 = ((await h.runtime.tick(p1.run_id)).waiting?.details as JsonObject).sub_run_id as string;
    assert.equal((await h.runtime.tick(c1)).status, "failed");
    await h.runtime.resumeParentsOf(c1);
    const out1 = ((await h.runtime.tick(p1.run_id)).output as JsonObject).sub as JsonObject;
    assert.deepEqual(out1.output, {
      success: false,
      error: "Effect failed after 1 attempts: answer_user requires a 'message'",
    });

    const p2 = await h.runtime.start({ workflowId: "p-ask", vars: {} });
    const c2 = ((await h.runtime.tick(p2.run_id)).waiting?.details as JsonObject).sub_run_id as string;
    await h.runtime.tick(c2);
    await h.runtime.cancel(c2, "stop it");
    await h.runtime.resumeParentsOf(c2);
    const out2 = ((await h.runtime.tick(p2.run_id)).output as JsonObject).sub as JsonObject;
    assert.deepEqual(out2.output, { success: false, error: "stop it", cancelled: true });
    const resume = (await ledgerOf(h, p2.run_id)).find((r) => r.effect?.type === "resume");
    assert.equal((resume?.effect?.payload as JsonObject).wait_key, `subworkflow:${c2}`);
  } finally {
    await h.close();
  }
});

Deno.test("sync start_subworkflow ticks the child inline", async () => {
  const h = await openHarness({ specs: specs() });
  try {
    const p = await h.runtime.start({ workflowId: "p-sync", vars: {} });
    const done = await h.runtime.tick(p.run_id);
    assert.equal(done.status, "completed");
    assert.deepEqual(((done.output as JsonObject).sub as JsonObject).output, { doubled: 4, ws: null });
  } finally {
    await h.close();
  }
});
