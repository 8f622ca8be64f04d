/**
 * Upstream bundles (basic-llm-test, basic-agent, test) end to end: real WorkflowRuntime + VisualFlow
 * compiler + our LLM handlers and ReAct agent, against the fake LLM on loopback.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readFlowBundle } from "../../../src/bundles/reader.ts";
import type { JsonObject } from "../../../src/runtime/types.ts";
import { type FakeLlmReply, startFakeLlm } from "../../helpers/fake_llm.ts";
import { compatTest, upstreamBundlesDir } from "../../helpers/compat.ts";
import { drive, type Harness, ledgerOf, openHarness } from "../harness.ts";

async function withBundle(
  file: string,
  replies: FakeLlmReply[],
  body: (h: Harness, llm: Awaited<ReturnType<typeof startFakeLlm>>, workspace: string) => Promise<void>,
): Promise<void> {
  const bundle = await readFlowBundle(await Deno.readFile(join(upstreamBundlesDir(), file)));
  const llm = await startFakeLlm(replies);
  const h = await openHarness({
    bundles: [bundle],
    env: {
      ABSTRACTGATEWAY_LLM_BASE_URL: llm.baseUrl,
      ABSTRACTGATEWAY_LLM_MAX_RETRIES: "0",
      ABSTRACTGATEWAY_TOOL_MODE: "approval",
      ABSTRACTGATEWAY_TOOL_COMMANDS: "/bin/cat", // execute_command: off unless named (tests run with -A)
      ABSTRACTGATEWAY_LOG_LEVEL: "error",
    },
  });
  const workspace = join(h.dir, "workspace");
  await Deno.mkdir(workspace);
  await Deno.writeTextFile(join(workspace, "hello.py"), "print('hello')\n");
  try {
    await body(h, llm, workspace);
  } finally {
    await h.close();
    await llm.close();
  }
}

compatTest("basic-llm-test: one completion, upstream output shape", async () => {
  await withBundle("basic-llm-test@0.0.0.flow", [], async (h, llm) => {
    const started = await h.runtime.start({
      workflowId: "basic-llm-test@0.0.0:ec5a574d",
      vars: { prompt: "hello", provider: "lmstudio", model: "qwen" },
    });
    const run = await drive(h, started.run_id);
    assert.equal(run.status, "completed", run.error ?? "");
    const output = run.output!;
    assert.equal(output.response, "FAKE#1 reply to: hello");
    assert.equal(output.success, true);
    const meta = output.meta as JsonObject;
    assert.equal(meta.schema, "abstractflow.llm_call.v1.meta");
    assert.equal(meta.output_mode, "unstructured");
    assert.equal(meta.model, "qwen");
    assert.equal((meta.usage as JsonObject).total_tokens, 19);
    assert.equal(llm.requests[0].body.model, "qwen");
    assert.equal((run.vars._limits as JsonObject).estimated_tokens_used, 12);
  });
});

compatTest("basic-agent: the agent lists files (auto-approved) and answers", async () => {
  const replies: FakeLlmReply[] = [
    { toolCalls: [{ name: "list_files", arguments: { directory_path: "." } }] },
    { content: "Listed." },
    { content: "The workspace holds hello.py." }, // the finalize pass
  ];
  await withBundle("basic-agent@0.0.1.flow", replies, async (h, llm, workspace) => {
    const started = await h.runtime.start({
      workflowId: "basic-agent@0.0.1:81795ea9",
      vars: { prompt: "list files", workspace_root: workspace },
    });
    const run = await drive(h, started.run_id);
    assert.equal(run.status, "completed", run.error ?? "");
    assert.equal(run.output!.response, "The workspace holds hello.py.");
    assert.equal(run.output!.success, true);
    const meta = run.output!.meta as JsonObject;
    assert.equal(meta.tool_calls, 1);
    assert.equal(meta.iterations, 2);
    assert.equal(llm.requests[0].body.model, "qwen/qwen3-next-80b");
    const tools = (llm.requests[0].body.tools as JsonObject[]).map((t) => (t.function as JsonObject).name);
    assert.deepEqual(tools.sort(), [
      "analyze_code",
      "edit_file",
      "execute_command",
      "fetch_url",
      "list_files",
      "read_file",
      "search_files",
      "web_search",
      "write_file",
    ]);
    const prompt = String((llm.requests[1].body.messages as JsonObject[]).at(-1)!.content);
    assert.match(prompt, /\nobservation\[list_files\] \(success\): [^\n]*\n?[\s\S]*hello\.py/);
    const rootLedger = await ledgerOf(h, run.run_id);
    assert.ok(rootLedger.some((r) => r.effect?.type === "start_subworkflow" && r.status === "waiting"));
  });
});

compatTest("test bundle: execute_command waits for approval, then runs in the workspace", async () => {
  const replies: FakeLlmReply[] = [
    { toolCalls: [{ name: "execute_command", arguments: { command: "cat hello.py" } }] },
    { content: "Done." },
    { content: "It prints hello." }, // the finalize pass
  ];
  await withBundle("test@dev.flow", replies, async (h, _llm, workspace) => {
    const started = await h.runtime.start({
      workflowId: "test@dev:b4c6f107",
      vars: { prompt: "what does hello.py print?", workspace_root: workspace },
    });
    let root = await drive(h, started.run_id);
    assert.equal(root.status, "waiting");
    const children = (await h.stores.runs.list({ limit: 50 })).items.filter((r) =>
      r.parent_run_id === root.run_id
    );
    const agent = children.find((r) => r.status === "waiting")!;
    assert.match(String(agent.waiting?.wait_key), /^tool_approval:/);
    const details = agent.waiting!.details as JsonObject;
    assert.equal((details.tool_calls as JsonObject[])[0].name, "execute_command");
    await h.runtime.resume(agent.run_id, {
      waitKey: agent.waiting!.wait_key,
      payload: { approved: true },
      maxSteps: 0,
    });
    root = await drive(h, root.run_id);
    assert.equal(root.status, "completed", root.error ?? "");
    assert.equal(root.output!.output, "It prints hello.");
    const childLedger = await ledgerOf(h, agent.run_id);
    // the approved batch ran inside the resume: the waiting step's completed twin holds its results
    const waited = childLedger.find((r) => r.effect?.type === "tool_calls" && r.status === "waiting")!;
    const executed = childLedger.find((r) => r.step_id === waited.step_id && r.status === "completed")!;
    const result = (executed.result as JsonObject).results as JsonObject[];
    assert.equal(result[0].success, true);
    assert.match(String(result[0].output), /print\('hello'\)/);
  });
});
