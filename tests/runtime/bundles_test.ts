/** Every upstream bundle runs to completion (scripted fake LLM) or fails with a clear error (no media endpoint). */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readFlowBundle } from "../../src/bundles/reader.ts";
import type { LoadedBundle } from "../../src/bundles/types.ts";
import type { JsonObject } from "../../src/runtime/types.ts";
import { startFakeLlm } from "../helpers/fake_llm.ts";
import { compatTest, upstreamBundlesDir } from "../helpers/compat.ts";
import { drive, type Harness, ledgerOf, openHarness } from "./harness.ts";

async function loadBundles(): Promise<LoadedBundle[]> {
  const out: LoadedBundle[] = [];
  for await (const e of Deno.readDir(upstreamBundlesDir())) {
    if (e.name.endsWith(".flow")) {
      out.push(await readFlowBundle(await Deno.readFile(join(upstreamBundlesDir(), e.name))));
    }
  }
  return out;
}

async function withBundles(fn: (h: Harness, llmRequests: () => number) => Promise<void>): Promise<void> {
  const llm = await startFakeLlm();
  const h = await openHarness({
    bundles: await loadBundles(),
    env: { ABSTRACTGATEWAY_LLM_BASE_URL: llm.baseUrl },
  });
  try {
    await fn(h, () => llm.requests.length);
  } finally {
    await h.close();
    await llm.close();
  }
}

compatTest("yoda completes immediately without calling the LLM (upstream quirk)", async () => {
  await withBundles(async (h, requests) => {
    const run = await h.runtime.start({ workflowId: "yoda@dev:646770d8", vars: { prompt: "hello" } });
    const done = await drive(h, run.run_id);
    assert.equal(done.status, "completed");
    assert.deepEqual(done.output, { success: true, result: { prompt: "hello" } });
    assert.equal(requests(), 0);
  });
});

compatTest("basic-agent status subflow runs standalone: emit_event is the terminal effect", async () => {
  await withBundles(async (h) => {
    const run = await h.runtime.start({
      workflowId: "basic-agent@0.0.1:15f19f7f",
      vars: { state: "Done", post_delay: 3 },
    });
    const done = await drive(h, run.run_id);
    assert.equal(done.status, "completed");
    const result = {
      wait_key: `evt:run:${run.run_id}:abstract.status`,
      name: "abstract.status",
      scope: "run",
      delivered: 0,
      delivered_to: [],
      resumed: [],
    };
    assert.deepEqual(done.output, { success: true, result });
    const ledger = await ledgerOf(h, run.run_id);
    assert.deepEqual(ledger.map((r) => r.status), ["started", "completed", "completed"]);
    assert.deepEqual(ledger[0].effect, {
      type: "emit_event",
      payload: {
        scope: "run",
        name: "abstract.status",
        payload: { value: "Done" },
        event_id: `${run.run_id}:node-4:1`,
        max_steps: 0,
      },
      result_key: "_temp.effects.node-4",
    });
    assert.deepEqual(done.vars._last_output, { state: "Done", post_delay: 3 });
  });
});

compatTest("basic-llm-test: one llm_call, output as upstream", async () => {
  await withBundles(async (h) => {
    const run = await h.runtime.start({
      workflowId: "basic-llm-test@0.0.0:ec5a574d",
      vars: { prompt: "hello", provider: "lmstudio", model: "qwen" },
    });
    const done = await drive(h, run.run_id);
    assert.equal(done.status, "completed", done.error ?? "");
    const out = done.output as JsonObject;
    assert.equal(out.response, "FAKE#1 reply to: hello");
    assert.equal(out.success, true);
    assert.equal(out.scratchpad, null);
    assert.equal((out.meta as JsonObject).schema, "abstractflow.llm_call.v1.meta");
    const ledger = await ledgerOf(h, run.run_id);
    assert.deepEqual(ledger.map((r) => [r.node_id, r.status]), [
      ["node-2", "started"],
      ["node-2", "completed"],
      ["end", "completed"],
      ["end", "completed"],
    ]);
    const payload = ledger[0].effect!.payload as JsonObject;
    assert.deepEqual(Object.keys(payload), [
      "type",
      "prompt",
      "system_prompt",
      "tools",
      "params",
      "provider",
      "model",
      "include_context",
      "resume_to_node",
    ]);
    assert.equal(payload.system_prompt, null);
    assert.deepEqual((payload.params as JsonObject).trace_metadata, {
      step_id: ledger[0].step_id,
      effect_idempotency_key: ledger[0].idempotency_key,
      attempt: 1,
    });
  });
});

for (
  const [label, workflowId, vars] of [
    ["basic-agent 0.0.0", "basic-agent@0.0.0:81795ea9", { prompt: "list files" }],
    ["basic-agent 0.0.1", "basic-agent@0.0.1:81795ea9", { prompt: "list files" }],
    ["basic", "basic@dev:06af7170", { prompt: "write hello.py" }],
    ["test", "test@dev:b4c6f107", { prompt: "run ls" }],
  ] as const
) {
  compatTest(`${label}: the agent runs its ReAct child against the fake LLM and completes`, async () => {
    await withBundles(async (h, requests) => {
      const run = await h.runtime.start({ workflowId, vars: { ...vars } });
      const done = await drive(h, run.run_id);
      assert.equal(done.status, "completed", done.error ?? JSON.stringify(done.waiting));
      const out = done.output as JsonObject;
      const response = out.response ?? out.output;
      assert.match(String(response), /^FAKE#1 reply to: /);
      assert.ok(requests() >= 1);
      const children = await h.stores.runs.listChildren(run.run_id);
      assert.ok(children.some((c) => c.workflow_id.startsWith("visual_react_agent_")));
      assert.ok(children.every((c) => c.status === "completed"));
      const ledger = await ledgerOf(h, run.run_id);
      assert.equal(ledger.at(-1)?.idempotency_key, "system:terminal_status:completed");
      assert.ok(ledger.some((r) => r.effect?.type === "resume"));
    });
  });
}

for (
  const [workflowId, task] of [
    ["features@dev:bde7850f", "image_generation"],
    ["Untitled-Flow@draft.7dc05dbc-58d5-4175-b58f-3531f5548246:0d021714", "tts"],
  ] as const
) {
  compatTest(`${workflowId}: its media node fails clearly when no media endpoint is configured`, async () => {
    await withBundles(async (h) => {
      const run = await h.runtime.start({ workflowId, vars: {} });
      const done = await drive(h, run.run_id);
      assert.equal(done.status, "failed");
      const reason =
        `Cannot run media task '${task}': no media backend is configured (set ABSTRACTGATEWAY_MEDIA_BASE_URL)`;
      assert.equal(done.error, `Effect failed after 1 attempts: ${reason}`);
      const failed = (await ledgerOf(h, run.run_id)).find((r) => r.status === "failed");
      assert.equal(failed?.error, reason);
    });
  });
}
