/** Visual llm_call node: payload as upstream, §7.6 output pins, use_context conversation memory. */
import assert from "node:assert/strict";
import type { JsonObject } from "../../src/runtime/types.ts";
import { startFakeLlm } from "../helpers/fake_llm.ts";
import { drive, ledgerOf, openHarness, pins, visualFlow } from "./harness.ts";

const LLM_IN = ["prompt", "system", "provider", "model", "use_context"];
const llmNode = (prompt: string) => ({
  ...pins(LLM_IN, ["response", "success", "meta", "tool_calls"]),
  pinDefaults: { prompt, provider: "openai", model: "gpt-5-mini", use_context: true, system: "Be brief." },
});

Deno.test("use_context llm_call nodes share a durable conversation in vars.context.messages", async () => {
  const llm = await startFakeLlm();
  const flow = visualFlow("chat", [
    ["start", "on_flow_start", { inputs: [], outputs: [{ id: "exec-out", type: "execution" }] }],
    ["one", "llm_call", llmNode("first question")],
    ["two", "llm_call", llmNode("second question")],
    ["end", "on_flow_end", {
      inputs: [{ id: "exec-in", type: "execution" }, { id: "response", type: "string" }, {
        id: "meta",
        type: "object",
      }],
      outputs: [],
    }],
  ], [
    "start:exec-out->one:exec-in",
    "one:exec-out->two:exec-in",
    "two:exec-out->end:exec-in",
    "two:response->end:response",
    "two:meta->end:meta",
  ]);
  const h = await openHarness({ flows: [flow], env: { ABSTRACTGATEWAY_LLM_BASE_URL: llm.baseUrl } });
  try {
    const run = await h.runtime.start({ workflowId: "chat", vars: {} });
    const done = await drive(h, run.run_id);
    assert.equal(done.status, "completed", done.error ?? "");
    const out = done.output as JsonObject;
    assert.equal(out.response, "FAKE#2 reply to: second question");
    assert.equal((out.meta as JsonObject).output_mode, "unstructured");
    const calls = (await ledgerOf(h, run.run_id)).filter((r) =>
      r.effect?.type === "llm_call" && r.status === "started"
    );
    const second = calls[1].effect!.payload as JsonObject;
    assert.equal(second.prompt, undefined, "include_context rewrites prompt/system into messages");
    assert.deepEqual(
      (second.messages as JsonObject[]).map((m) => [m.role, m.content]),
      [
        ["system", "Be brief."],
        ["user", "first question"],
        ["assistant", "FAKE#1 reply to: first question"],
        ["user", "second question"],
      ],
    );
    const history = (done.vars.context as JsonObject).messages as JsonObject[];
    assert.equal(history.length, 4);
    assert.deepEqual(history[3].metadata, { kind: "llm_turn", node_id: "two" });
    assert.ok(typeof (done.vars._limits as JsonObject).estimated_tokens_used === "number");
    assert.notEqual((done.vars._limits as JsonObject).estimated_tokens_used, 0);
  } finally {
    await h.close();
    await llm.close();
  }
});

/** start → llm_call(provider, model[, resp_schema]) → end.response */
function oneCallFlow(id: string, pinDefaults: JsonObject) {
  return visualFlow(id, [
    ["start", "on_flow_start", { inputs: [], outputs: [{ id: "exec-out", type: "execution" }] }],
    ["llm", "llm_call", {
      ...pins([...LLM_IN, "resp_schema"], ["response", "success", "meta", "tool_calls"]),
      pinDefaults: { prompt: "hello", ...pinDefaults },
    }],
    ["end", "on_flow_end", {
      inputs: [{ id: "exec-in", type: "execution" }, { id: "response", type: "string" }],
      outputs: [],
    }],
  ], ["start:exec-out->llm:exec-in", "llm:exec-out->end:exec-in", "llm:response->end:response"]);
}

Deno.test("llm_call structured output is sent as upstream's LLM_StructuredOutput schema", async () => {
  const llm = await startFakeLlm();
  const schema = { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] };
  const h = await openHarness({
    flows: [oneCallFlow("structured", { resp_schema: schema })],
    env: { ABSTRACTGATEWAY_LLM_BASE_URL: llm.baseUrl, ABSTRACTGATEWAY_LLM_MODEL: "m" },
  });
  try {
    const done = await drive(h, (await h.runtime.start({ workflowId: "structured", vars: {} })).run_id);
    assert.equal(done.status, "completed", done.error ?? "");
    const format = llm.requests[0].body.response_format as JsonObject;
    assert.equal((format.json_schema as JsonObject).name, "LLM_StructuredOutput");
  } finally {
    await h.close();
    await llm.close();
  }
});

Deno.test("providers: each named provider goes to its own endpoint, key and model mapping; unknown fails", async () => {
  const local = await startFakeLlm();
  const cloud = await startFakeLlm();
  const fallback = await startFakeLlm();
  const providers = {
    LMStudio: { base_url: local.baseUrl, models: { "qwen/qwen3-next-80b": "served-qwen" } },
    openai: { base_url: cloud.baseUrl, api_key: "sk-cloud", model: "gpt-default" },
  };
  const h = await openHarness({
    flows: [
      oneCallFlow("to-local", { provider: "lmstudio", model: "qwen/qwen3-next-80b" }),
      oneCallFlow("to-cloud", { provider: "openai", model: "gpt-5-mini" }),
      oneCallFlow("to-default", {}),
      oneCallFlow("to-unknown", { provider: "ollama", model: "llama3" }),
    ],
    env: {
      ABSTRACTGATEWAY_LLM_BASE_URL: fallback.baseUrl,
      ABSTRACTGATEWAY_LLM_MODEL: "default-model",
      ABSTRACTGATEWAY_LLM_API_KEY: "sk-default",
      ABSTRACTGATEWAY_LLM_PROVIDERS: JSON.stringify(providers),
    },
  });
  const runFlow = async (id: string) =>
    await drive(h, (await h.runtime.start({ workflowId: id, vars: {} })).run_id);
  try {
    for (const id of ["to-local", "to-cloud", "to-default"]) {
      const done = await runFlow(id);
      assert.equal(done.status, "completed", `${id}: ${done.error}`);
    }
    assert.equal(local.requests.length, 1);
    assert.equal(local.requests[0].body.model, "served-qwen");
    assert.equal(local.requests[0].headers.authorization, undefined, "no key leaks to a keyless provider");
    assert.equal(cloud.requests.length, 1);
    assert.equal(cloud.requests[0].body.model, "gpt-5-mini");
    assert.equal(cloud.requests[0].headers.authorization, "Bearer sk-cloud");
    assert.equal(fallback.requests.length, 1);
    assert.equal(fallback.requests[0].body.model, "default-model");
    assert.equal(fallback.requests[0].headers.authorization, "Bearer sk-default");

    const unknown = await runFlow("to-unknown");
    assert.equal(unknown.status, "failed");
    assert.match(
      String(unknown.error),
      /Cannot call LLM provider 'ollama': it is not configured \(.*lmstudio, openai\)/,
    );
  } finally {
    await h.close();
    await Promise.all([local.close(), cloud.close(), fallback.close()]);
  }
});
