/** Agent node (parent side): ReAct child via START_SUBWORKFLOW, structured phase, use_context turns. */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { JsonObject } from "../../src/runtime/types.ts";
import { startFakeLlm } from "../helpers/fake_llm.ts";
import { drive, ledgerOf, openHarness, pins, visualFlow } from "./harness.ts";

const AGENT_IN = ["prompt", "provider", "model", "resp_schema", "use_context", "max_iterations"];
const SCHEMA = { type: "object", properties: { done: { type: "boolean" } }, required: ["done"] };

function agentFlow(withSchema: boolean) {
  return visualFlow("agentflow", [
    ["start", "on_flow_start", {
      inputs: [],
      outputs: [{ id: "exec-out", type: "execution" }, { id: "prompt", type: "string" }],
    }],
    ["agent", "agent", {
      ...pins(AGENT_IN, ["response", "success", "meta", "scratchpad"]),
      pinDefaults: {
        provider: "openai",
        model: "gpt-5-mini",
        use_context: true,
        max_iterations: 3,
        ...(withSchema ? { resp_schema: SCHEMA } : {}),
      },
      agentConfig: { tools: [] },
    }],
    ["end", "on_flow_end", {
      inputs: [{ id: "exec-in", type: "execution" }, { id: "response", type: "string" }, {
        id: "meta",
        type: "object",
      }],
      outputs: [],
    }],
  ], [
    "start:exec-out->agent:exec-in",
    "start:prompt->agent:prompt",
    "agent:exec-out->end:exec-in",
    "agent:response->end:response",
    "agent:meta->end:meta",
  ]);
}

Deno.test("agent: child run answers, use_context appends the turn, meta names the child", async () => {
  const llm = await startFakeLlm();
  const h = await openHarness({
    flows: [agentFlow(false)],
    env: { ABSTRACTGATEWAY_LLM_BASE_URL: llm.baseUrl },
  });
  try {
    const run = await h.runtime.start({ workflowId: "agentflow", vars: { prompt: "say hi" } });
    const done = await drive(h, run.run_id);
    assert.equal(done.status, "completed", done.error ?? "");
    const out = done.output as JsonObject;
    // the reasoning call sends upstream's single prompt, so the fake echoes all of it
    const prompt = "Iteration: 1/3\n\nTask:\nsay hi\n\nHistory:\nuser: say hi\n\n";
    assert.equal(out.response, `FAKE#1 reply to: ${prompt}`);
    const meta = out.meta as JsonObject;
    assert.equal(meta.schema, "abstractcode.agent.v1.meta");
    assert.equal(meta.output_mode, "unstructured");
    const child = (await h.stores.runs.load(String(meta.sub_run_id)))!;
    assert.equal(child.workflow_id, "visual_react_agent_agentflow_agent");
    assert.equal(child.parent_run_id, run.run_id);
    const messages = (done.vars.context as JsonObject).messages as JsonObject[];
    assert.deepEqual(messages.map((m) => [m.role, m.content, (m.metadata as JsonObject).message_id]), [
      ["user", "say hi", `agent:${child.run_id}:agent:task`],
      ["assistant", `FAKE#1 reply to: ${prompt}`, `agent:${child.run_id}:agent:answer`],
    ]);
    const sub = (await ledgerOf(h, run.run_id)).find((r) => r.status === "waiting")!;
    assert.equal(sub.effect?.result_key, "_temp.agent.agent.sub");
    assert.equal(
      ((sub.effect?.payload as JsonObject).vars as JsonObject as { _runtime: JsonObject })._runtime.provider,
      "openai",
    );
  } finally {
    await h.close();
    await llm.close();
  }
});

Deno.test("agent with a response schema adds the structured LLM call; response is JSON of data", async () => {
  const llm = await startFakeLlm();
  const h = await openHarness({
    flows: [agentFlow(true)],
    env: { ABSTRACTGATEWAY_LLM_BASE_URL: llm.baseUrl },
  });
  try {
    const run = await h.runtime.start({ workflowId: "agentflow", vars: { prompt: "check" } });
    const done = await drive(h, run.run_id);
    assert.equal(done.status, "completed", done.error ?? "");
    const out = done.output as JsonObject;
    assert.equal(typeof JSON.parse(String(out.response)).done, "boolean");
    assert.equal((out.meta as JsonObject).output_mode, "structured");
    const structured = (await ledgerOf(h, run.run_id)).find((r) =>
      r.effect?.type === "llm_call" && r.status === "completed"
    );
    assert.equal(structured?.effect?.result_key, "_temp.agent.agent.structured");
    assert.equal((structured?.effect?.payload as JsonObject).response_schema_name, "Agent_agent");
  } finally {
    await h.close();
    await llm.close();
  }
});

Deno.test("agent without any provider/model completes the node with success:false (run continues)", async () => {
  const flow = agentFlow(false);
  flow.nodes[1].data.pinDefaults = { use_context: false };
  const h = await openHarness({ flows: [flow] });
  try {
    const run = await h.runtime.start({ workflowId: "agentflow", vars: { prompt: "x" } });
    const done = await drive(h, run.run_id);
    assert.equal(done.status, "completed");
    assert.deepEqual(done.output, {
      response: "",
      meta: { error: "agent agent: no provider/model configured" },
      success: true,
    });
  } finally {
    await h.close();
  }
});

Deno.test("agent with tools: finalize pass answers, parent context gets the child's tool observations", async () => {
  const llm = await startFakeLlm([
    {
      toolCalls: [
        { name: "list_files", arguments: { directory_path: "." }, id: "c1" },
        { name: "nope", arguments: {}, id: "c2" },
      ],
    },
    { content: "observation[list_files] (success): a.txt" },
    { content: "The folder holds a.txt." },
  ]);
  const flow = agentFlow(false);
  flow.nodes[1].data.agentConfig = { tools: ["list_files"] };
  const h = await openHarness({ flows: [flow], env: { ABSTRACTGATEWAY_LLM_BASE_URL: llm.baseUrl } });
  try {
    const workspace = join(h.dir, "ws");
    await Deno.mkdir(workspace);
    await Deno.writeTextFile(join(workspace, "a.txt"), "x");
    const run = await h.runtime.start({
      workflowId: "agentflow",
      vars: { prompt: "what is here?", workspace_root: workspace },
    });
    const done = await drive(h, run.run_id);
    assert.equal(done.status, "completed", done.error ?? "");
    // two reasoning calls, then the tool-free finalize pass whose text is the agent's response
    assert.equal(llm.requests.length, 3);
    assert.equal(llm.requests[2].body.tools, undefined);
    assert.equal((done.output as JsonObject).response, "The folder holds a.txt.");
    const meta = (done.output as JsonObject).meta as JsonObject;
    assert.equal(meta.tool_calls, 2);
    const messages = (done.vars.context as JsonObject).messages as JsonObject[];
    const sub = String(meta.sub_run_id);
    assert.deepEqual(messages.map((m) => [m.role, (m.metadata as JsonObject).message_id]), [
      ["user", `agent:${sub}:agent:task`],
      ["assistant", `agent:${sub}:agent:obs:1`],
      ["assistant", `agent:${sub}:agent:obs:2`],
      ["assistant", `agent:${sub}:agent:answer`],
    ]);
    // the child's own history format: `[name]: output`, failures as `[name]: Error: …`
    assert.match(String(messages[1].content), /^\[list_files\]: .*a\.txt/s);
    assert.match(String(messages[2].content), /^\[nope\]: Error: /);
    assert.equal((messages[1].metadata as JsonObject).kind, "tool_observation");
  } finally {
    await h.close();
    await llm.close();
  }
});
