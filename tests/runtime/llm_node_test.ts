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
