/** The ReAct agent spec driven by the real WorkflowRuntime (file store) against the fake LLM. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../../src/config/config.ts";
import { reactAgentSpec } from "../../../src/runtime/llm/mod.ts";
import type { JsonObject, RunState, StepRecord } from "../../../src/runtime/types.ts";
import { WorkflowRuntime } from "../../../src/runtime/workflow_runtime.ts";
import { openStores } from "../../../src/store/open.ts";
import type { Stores } from "../../../src/store/types.ts";
import { type FakeLlmReply, startFakeLlm } from "../../helpers/fake_llm.ts";
import { scratchDir } from "./support.ts";

const WF = "visual_react_agent_test_node-2";

interface Env {
  dir: string;
  workspace: string;
  stores: Stores;
  llm: Awaited<ReturnType<typeof startFakeLlm>>;
  runtime(): WorkflowRuntime;
  ledger(runId: string): Promise<StepRecord[]>;
  [Symbol.asyncDispose](): Promise<void>;
}

async function setup(replies: FakeLlmReply[], toolMode = "approval"): Promise<Env> {
  const dir = await scratchDir("react-engine-");
  const workspace = join(dir, "ws");
  await Deno.mkdir(workspace);
  await Deno.writeTextFile(join(workspace, "hello.py"), "print('hello')\n");
  const llm = await startFakeLlm(replies);
  const config = loadConfig({
    ABSTRACTGATEWAY_DATA_DIR: dir,
    ABSTRACTGATEWAY_LLM_BASE_URL: llm.baseUrl,
    ABSTRACTGATEWAY_LLM_MODEL: "fake-model",
    ABSTRACTGATEWAY_LLM_MAX_RETRIES: "0",
    ABSTRACTGATEWAY_TOOL_MODE: toolMode,
    ABSTRACTGATEWAY_LOG_LEVEL: "error",
  });
  const stores = await openStores({ backend: "file", dataDir: dir, dbPath: config.dbPath });
  const specs = new Map([[WF, reactAgentSpec(WF, {})]]);
  return {
    dir,
    workspace,
    stores,
    llm,
    runtime: () =>
      new WorkflowRuntime({ stores, workflows: { getWorkflow: () => undefined }, config, specs }),
    async ledger(runId) {
      return (await stores.ledger.read(runId, 0, 1000)).items;
    },
    async [Symbol.asyncDispose]() {
      await stores.close();
      await llm.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function childVars(workspace: string, task: string, tools: string[], maxIterations = 10): JsonObject {
  return {
    context: { task, messages: [] },
    scratchpad: { iteration: 0, max_iterations: maxIterations },
    _runtime: { inbox: [], provider: "lmstudio", model: "qwen", allowed_tools: tools },
    _temp: {},
    workspace_root: workspace,
  };
}

const readCall = { toolCalls: [{ name: "read_file", arguments: { file_path: "hello.py" }, id: "call_r" }] };
const writeCall = {
  toolCalls: [{ name: "write_file", arguments: { file_path: "summary.txt", content: "prints hello" } }],
};

Deno.test("ReAct: read (auto) → write (approval wait) → approve → final answer", async () => {
  await using env = await setup([readCall, writeCall, { content: "Done, I think." }, {
    content: "Summary written.",
  }]);
  let run: RunState = await env.runtime().start({
    workflowId: WF,
    vars: childVars(env.workspace, "Summarise hello.py into summary.txt", ["read_file", "write_file"]),
  });
  run = await env.runtime().tick(run.run_id);
  assert.equal(run.status, "waiting", run.error ?? "");
  assert.equal(run.waiting?.reason, "user");
  assert.match(String(run.waiting?.wait_key), /^tool_approval:[0-9a-f]{32}$/);
  assert.equal(run.waiting?.resume_to_node, "observe");
  await assert.rejects(Deno.stat(join(env.workspace, "summary.txt")), Deno.errors.NotFound);

  // As upstream, the reasoning call sends one `prompt` (no messages): iteration, task, history with
  // the read_file observation labelled, and the scratchpad of the run's tool steps.
  const firstPayload = env.llm.requests[0].body.messages as JsonObject[];
  assert.deepEqual(firstPayload.map((m) => m.role), ["system", "user"]);
  assert.equal(
    firstPayload[1].content,
    "Iteration: 1/10\n\nTask:\nSummarise hello.py into summary.txt\n\n" +
      "History:\nuser: Summarise hello.py into summary.txt\n\n",
  );
  const second = String((env.llm.requests[1].body.messages as JsonObject[])[1].content);
  assert.match(second, /^Iteration: 2\/10\n/);
  assert.match(
    second,
    /\nobservation\[read_file\] \(success\): File: hello\.py .*\n {4}1: print\('hello'\)\n/,
  );
  assert.match(
    second,
    /Scratchpad \(runtime; tool calls \+ results\):\n\[tool_calls\] \S+ \(completed\)\nAction:/,
  );
  assert.equal((env.llm.requests[0].body.tools as JsonObject[]).length, 2);
  const reasonCall = (await env.ledger(run.run_id)).find((r) => r.effect?.type === "llm_call")!;
  assert.deepEqual(Object.keys(reasonCall.effect!.payload), [
    "prompt",
    "tools",
    "system_prompt",
    "provider",
    "model",
    "params",
  ]);
  assert.equal(reasonCall.effect!.payload.messages, undefined);

  // Resume through a fresh runtime on the same stores (a restarted process).
  run = await env.runtime().resume(run.run_id, {
    waitKey: run.waiting!.wait_key,
    payload: { approved: true },
    maxSteps: 0,
  });
  run = await env.runtime().tick(run.run_id);
  assert.equal(run.status, "completed", run.error ?? "");
  assert.equal(await Deno.readTextFile(join(env.workspace, "summary.txt")), "prints hello");
  const output = run.output!;
  assert.equal(output.answer, "Summary written.");
  assert.deepEqual(Object.keys(output).sort(), ["answer", "iterations", "messages"]); // upstream's keys
  assert.equal(output.iterations, 3);
  assert.deepEqual(
    (((run.vars._temp as JsonObject).agent as JsonObject).tool_results as JsonObject[]).map((
      r,
    ) => [r.name, r.success]),
    [
      ["read_file", true],
      ["write_file", true],
    ],
  );
  // Tool results are history entries `[name]: output`; the finalize answer closes the history.
  const messages = output.messages as JsonObject[];
  assert.deepEqual(messages.map((m) => [m.role, (m.metadata as JsonObject).kind]), [
    ["user", "agent_task"],
    ["tool", "tool_observation"],
    ["tool", "tool_observation"],
    ["assistant", "answer"],
    ["assistant", "final_answer"],
  ]);
  assert.match(String(messages[1].content), /^\[read_file\]: File: hello\.py /);
  assert.deepEqual(messages[1].metadata, {
    kind: "tool_observation",
    name: "read_file",
    call_id: "call_r",
    success: true,
    message_id: "react:1:tool:1",
  });
  assert.match(String(messages[2].content), /^\[write_file\]: /);
  assert.equal(messages[4].content, "Summary written.");

  // Tools were used: upstream's extra tool-free finalize pass writes the user-facing answer.
  assert.equal(env.llm.requests.length, 4);
  const finalize = env.llm.requests[3].body;
  assert.equal(finalize.tools, undefined);
  assert.equal(finalize.temperature, 0.2);
  const finalPrompt = String((finalize.messages as JsonObject[]).at(-1)!.content);
  assert.match(
    finalPrompt,
    /- Tools executed: read_file, write_file\n- File writes observed \(write_file\/edit_file\): yes/,
  );
  assert.match(
    finalPrompt,
    /Task:\nSummarise hello.py into summary.txt\n\nObservations \(tool outputs\):\n\[read_file\]: File: hello\.py /,
  );
  assert.match(finalPrompt, /\nAnswer:\n$/);

  const ledger = await env.ledger(run.run_id);
  const llmDone = ledger.filter((r) => r.effect?.type === "llm_call" && r.status === "completed");
  assert.equal(llmDone.length, 4);
  assert.equal(llmDone[3].node_id, "finalize");
  assert.equal(llmDone[3].effect!.result_key, "_temp.final_llm_response");
  const first = llmDone[0].result as JsonObject;
  for (
    const key of ["content", "reasoning", "data", "tool_calls", "usage", "model", "finish_reason", "metadata"]
  ) {
    assert.ok(key in first, key);
  }
  assert.equal((first.usage as JsonObject).total_tokens, 19);
  assert.equal(llmDone[0].effect!.payload.provider, "lmstudio");
  // As upstream: the approved batch runs inside the resume; its waiting step gets a completed twin
  // (same step id and idempotency key, carrying the results) just before the resume record.
  const waiting = ledger.find((r) => r.effect?.type === "tool_calls" && r.status === "waiting")!;
  const twin = ledger.findIndex((r) => r.step_id === waiting.step_id && r.status === "completed");
  assert.ok(twin > 0, "the waiting tool step is completed");
  assert.equal(ledger[twin].idempotency_key, waiting.idempotency_key);
  assert.deepEqual(((ledger[twin].result as JsonObject).results as JsonObject[]).map((r) => r.success), [
    true,
  ]);
  assert.equal(ledger[twin + 1].effect?.type, "resume");
  assert.equal(ledger.filter((r) => r.effect?.type === "tool_calls" && r.status === "started").length, 2);
});

Deno.test("ReAct: a denied write is observed as an error and the agent still answers", async () => {
  await using env = await setup([writeCall, { content: "no luck" }, {
    content: "I could not write the file.",
  }]);
  let run = await env.runtime().start({
    workflowId: WF,
    vars: childVars(env.workspace, "write it", ["write_file"]),
  });
  run = await env.runtime().tick(run.run_id);
  assert.equal(run.status, "waiting");
  run = await env.runtime().resume(run.run_id, {
    payload: { approved: false, reason: "not now" },
    maxSteps: 0,
  });
  run = await env.runtime().tick(run.run_id);
  assert.equal(run.status, "completed", run.error ?? "");
  const results = ((run.vars._temp as JsonObject).agent as JsonObject).tool_results as JsonObject[];
  assert.equal(results[0].error, "Tool call denied by the user: not now");
  const prompt = String((env.llm.requests[1].body.messages as JsonObject[]).at(-1)!.content);
  assert.match(
    prompt,
    /\nobservation\[write_file\] \(error\): Error: Tool call denied by the user: not now\n/,
  );
  const final = String((env.llm.requests[2].body.messages as JsonObject[]).at(-1)!.content);
  assert.match(final, /File writes observed \(write_file\/edit_file\): no\n/);
  assert.equal(run.output!.answer, "I could not write the file.");
  await assert.rejects(Deno.stat(join(env.workspace, "summary.txt")), Deno.errors.NotFound);
});

Deno.test("ReAct: stops at max_iterations with the last message (as upstream, whatever its role)", async () => {
  const looping = { content: "still looking", toolCalls: [{ name: "list_files", arguments: {} }] };
  await using env = await setup([looping, looping, looping]);
  let run = await env.runtime().start({
    workflowId: WF,
    vars: childVars(env.workspace, "loop", ["list_files"], 2),
  });
  run = await env.runtime().tick(run.run_id);
  assert.equal(run.status, "completed", run.error ?? "");
  assert.equal(env.llm.requests.length, 2);
  assert.match(String(run.output!.answer), /^\[list_files\]: /);
  assert.equal(run.output!.iterations, 2);
});

Deno.test("ReAct: an LLM failure fails the child run with the client's error", async () => {
  await using env = await setup([{ status: 401, errorBody: "bad key" }]);
  let run = await env.runtime().start({ workflowId: WF, vars: childVars(env.workspace, "hi", []) });
  run = await env.runtime().tick(run.run_id);
  assert.equal(run.status, "failed");
  assert.match(String(run.error), /LLM request failed: HTTP 401/);
});

Deno.test("ReAct: delegated tools wait for a job; missing results become errors", async () => {
  const batch = {
    toolCalls: [
      { name: "read_file", arguments: { file_path: "a" }, id: "c_a" },
      { name: "read_file", arguments: { file_path: "b" }, id: "c_b" },
    ],
  };
  await using env = await setup([batch, { content: "done" }], "delegated");
  let run = await env.runtime().start({
    workflowId: WF,
    vars: childVars(env.workspace, "read a and b", ["read_file"]),
  });
  run = await env.runtime().tick(run.run_id);
  assert.equal(run.status, "waiting");
  assert.equal(run.waiting?.reason, "job");
  assert.equal(run.waiting?.wait_key, `tool_calls:${run.run_id}:act`);
  const results = [{
    call_id: "c_b",
    name: "read_file",
    success: true,
    output: "B from a worker",
    error: null,
  }];
  run = await env.runtime().resume(run.run_id, { payload: { mode: "executed", results }, maxSteps: 0 });
  run = await env.runtime().tick(run.run_id);
  assert.equal(run.status, "completed", run.error ?? "");
  const got = ((run.vars._temp as JsonObject).agent as JsonObject).tool_results as JsonObject[];
  assert.deepEqual(got.map((r) => [r.call_id, r.success, r.error ?? r.output]), [
    ["c_a", false, "Missing tool result"],
    ["c_b", true, "B from a worker"],
  ]);
});

Deno.test("ReAct: a chat-style approval answer ({response: 'approve'}) is accepted", async () => {
  await using env = await setup([writeCall, { content: "written" }]);
  let run = await env.runtime().start({
    workflowId: WF,
    vars: childVars(env.workspace, "write", ["write_file"]),
  });
  run = await env.runtime().tick(run.run_id);
  assert.equal(run.status, "waiting");
  run = await env.runtime().resume(run.run_id, { payload: { response: "Approve" }, maxSteps: 0 });
  run = await env.runtime().tick(run.run_id);
  assert.equal(run.status, "completed", run.error ?? "");
  assert.equal(await Deno.readTextFile(join(env.workspace, "summary.txt")), "prints hello");
});
