import assert from "node:assert/strict";
import { createLlmEffectHandlers } from "../../../src/runtime/llm/mod.ts";
import type { EffectOutcome } from "../../../src/runtime/spec.ts";
import type { JsonObject } from "../../../src/runtime/types.ts";
import { startFakeLlm } from "../../helpers/fake_llm.ts";
import { effectCtx, makeRun } from "./support.ts";

const base = { timeoutS: 5, maxRetries: 0, toolMode: "approval" as const };

async function call(
  handlers: ReturnType<typeof createLlmEffectHandlers>,
  payload: JsonObject,
  vars: JsonObject = {},
) {
  const run = makeRun(vars);
  return await handlers.llm_call(
    effectCtx(run, { type: "llm_call", payload, result_key: "_temp.effects.node-1" }),
  );
}

function completed(outcome: EffectOutcome): JsonObject {
  assert.equal(outcome.status, "completed", JSON.stringify(outcome));
  return (outcome as { result: JsonObject }).result;
}

Deno.test("llm_call returns the upstream result shape (basic-llm-test payload)", async () => {
  const llm = await startFakeLlm([]);
  try {
    const handlers = createLlmEffectHandlers({
      ...base,
      baseUrl: llm.baseUrl,
      model: "default-model",
      apiKey: "k",
    });
    const result = completed(
      await call(handlers, {
        type: "llm_call",
        prompt: "hello",
        system_prompt: null,
        tools: [],
        params: { temperature: 0.7, trace_metadata: { attempt: 1 } },
        provider: "lmstudio",
        model: "qwen",
        include_context: false,
        resume_to_node: "end",
      }),
    );
    assert.equal(result.content, "FAKE#1 reply to: hello");
    assert.equal(result.data, null);
    assert.equal(result.tool_calls, null);
    assert.equal(result.reasoning, null);
    assert.equal(result.model, "qwen");
    assert.equal(result.finish_reason, "stop");
    assert.deepEqual(result.usage, {
      input_tokens: 12,
      output_tokens: 7,
      total_tokens: 19,
      prompt_tokens: 12,
      completion_tokens: 7,
    });
    assert.equal(typeof result.gen_time, "number");
    assert.equal(result.trace_id, null);
    const meta = result.metadata as JsonObject;
    assert.deepEqual(meta._provider_request, {
      url: `${llm.baseUrl}/chat/completions`,
      payload: { model: "qwen", stream: false, temperature: 0.7, messages_count: 1, tools_count: 0 },
    });
    assert.equal(meta.provider, "lmstudio");
    const sent = llm.requests[0].body;
    assert.deepEqual(sent, {
      model: "qwen",
      messages: [{ role: "user", content: "hello" }],
      stream: false,
      temperature: 0.7,
    });
  } finally {
    await llm.close();
  }
});

Deno.test("llm_call builds system + context messages + prompt, seed/max_tokens, strips metadata", async () => {
  const llm = await startFakeLlm([]);
  try {
    const handlers = createLlmEffectHandlers({ ...base, baseUrl: llm.baseUrl, model: "cfg-model" });
    completed(
      await call(handlers, {
        system_prompt: "be brief",
        messages: [
          { role: "user", content: "earlier", metadata: { message_id: "m1" } },
          { role: "assistant", content: "ok", timestamp: "t" },
        ],
        prompt: "now",
        params: { seed: 7, max_output_tokens: 99, temperature: 0.1 },
        model: "default",
      }),
    );
    assert.deepEqual(llm.requests[0].body, {
      model: "cfg-model",
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: "earlier" },
        { role: "assistant", content: "ok" },
        { role: "user", content: "now" },
      ],
      stream: false,
      temperature: 0.1,
      seed: 7,
      max_tokens: 99,
    });
  } finally {
    await llm.close();
  }
});

Deno.test("llm_call sends tools as OpenAI functions and normalises tool calls", async () => {
  const llm = await startFakeLlm([{
    toolCalls: [{ name: "read_file", arguments: { file_path: "a.txt" }, id: "c1" }],
  }]);
  try {
    const handlers = createLlmEffectHandlers({ ...base, baseUrl: llm.baseUrl, model: "m" });
    const result = completed(
      await call(handlers, { prompt: "read it", tools: ["read_file", "no_such_tool"] }),
    );
    assert.deepEqual(result.tool_calls, [{
      name: "read_file",
      arguments: { file_path: "a.txt" },
      call_id: "c1",
    }]);
    assert.equal(result.finish_reason, "tool_calls");
    const tools = llm.requests[0].body.tools as JsonObject[];
    assert.equal(tools.length, 1);
    const fn = tools[0].function as JsonObject;
    assert.equal(fn.name, "read_file");
    const params = fn.parameters as JsonObject;
    assert.equal(params.type, "object");
    assert.deepEqual(params.required, ["file_path"]);
  } finally {
    await llm.close();
  }
});

Deno.test("llm_call structured output: response_format json_schema and parsed data", async () => {
  const schema = {
    type: "object",
    properties: { continue: { type: "boolean" }, tasks: { type: "array", items: { type: "string" } } },
    required: ["continue", "tasks"],
  };
  const llm = await startFakeLlm([{ content: '```json\n{"continue": false, "tasks": ["t1"]}\n```' }]);
  try {
    const handlers = createLlmEffectHandlers({ ...base, baseUrl: llm.baseUrl, model: "m" });
    const result = completed(
      await call(handlers, {
        prompt: "review",
        response_schema: schema,
        response_schema_name: "Agent_node-4",
      }),
    );
    assert.deepEqual(result.data, { continue: false, tasks: ["t1"] });
    assert.deepEqual(llm.requests[0].body.response_format, {
      type: "json_schema",
      json_schema: { name: "Agent_node-4", schema, strict: false },
    });
  } finally {
    await llm.close();
  }
});

Deno.test("llm_call structured output falls back to a JSON instruction when response_format is refused", async () => {
  const llm = await startFakeLlm([{ status: 400, errorBody: "response_format not supported" }, {
    content: 'Sure: {"n": 3}',
  }]);
  try {
    const handlers = createLlmEffectHandlers({ ...base, baseUrl: llm.baseUrl, model: "m" });
    const result = completed(
      await call(handlers, {
        prompt: "count",
        response_schema: { type: "object", properties: { n: { type: "number" } } },
      }),
    );
    assert.deepEqual(result.data, { n: 3 });
    const retry = llm.requests[1].body;
    assert.equal(retry.response_format, undefined);
    const first = (retry.messages as JsonObject[])[0];
    assert.equal(first.role, "system");
    assert.match(String(first.content), /JSON schema/);
  } finally {
    await llm.close();
  }
});

Deno.test("llm_call with a schema fails clearly when the reply is not JSON", async () => {
  const llm = await startFakeLlm([{ content: "no json here" }]);
  try {
    const handlers = createLlmEffectHandlers({ ...base, baseUrl: llm.baseUrl, model: "m" });
    const outcome = await call(handlers, {
      prompt: "x",
      response_schema: { type: "object", properties: {}, required: [] },
    });
    assert.deepEqual(outcome, {
      status: "failed",
      error: "Structured output was requested but the model reply is not JSON: no json here",
    });
  } finally {
    await llm.close();
  }
});

Deno.test("llm_call without an endpoint, model or input fails with a clear error", async () => {
  const noEndpoint = createLlmEffectHandlers({ ...base });
  assert.deepEqual(await call(noEndpoint, { prompt: "hi", model: "m" }), {
    status: "failed",
    error: "No LLM endpoint configured (set ABSTRACTGATEWAY_LLM_BASE_URL)",
  });
  const noModel = createLlmEffectHandlers({ ...base, baseUrl: "http://127.0.0.1:9/v1" });
  assert.deepEqual(await call(noModel, { prompt: "hi" }), {
    status: "failed",
    error: "No LLM model configured (set ABSTRACTGATEWAY_LLM_MODEL or give the node a model)",
  });
  assert.deepEqual(await call(noModel, { system_prompt: "only system" }), {
    status: "failed",
    error: "llm_call needs a prompt, messages or text",
  });
  const media = await call(noModel, {
    prompt: "a cat",
    output: { modality: "image", task: "image_generation" },
  });
  assert.equal(media.status, "failed");
  assert.match(
    (media as { error: string }).error,
    /^Cannot run media task 'image_generation': no media backend/,
  );
});

Deno.test("llm_call uses params.base_url over the configured endpoint and reports HTTP errors", async () => {
  const llm = await startFakeLlm([{ status: 401, errorBody: { error: { message: "invalid key" } } }]);
  try {
    const handlers = createLlmEffectHandlers({
      ...base,
      baseUrl: "http://127.0.0.1:9/v1",
      apiKey: "sk-secret",
      model: "m",
    });
    const outcome = await call(handlers, { prompt: "hi", params: { base_url: llm.baseUrl } });
    assert.equal(outcome.status, "failed");
    const error = (outcome as { error: string }).error;
    assert.match(
      error,
      /^LLM request failed: HTTP 401 Unauthorized from http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions/,
    );
    assert.ok(!error.includes("sk-secret"));
  } finally {
    await llm.close();
  }
});

Deno.test("llm_call trims old messages to max_input_tokens (from _limits)", async () => {
  const llm = await startFakeLlm([]);
  try {
    const handlers = createLlmEffectHandlers({ ...base, baseUrl: llm.baseUrl, model: "m" });
    const long = "x".repeat(400);
    completed(
      await call(handlers, {
        system_prompt: "sys",
        messages: [{ role: "user", content: long }, { role: "assistant", content: long }],
        prompt: "latest",
      }, { _limits: { max_input_tokens: 60 } }),
    );
    assert.deepEqual(llm.requests[0].body.messages, [
      { role: "system", content: "sys" },
      { role: "user", content: "latest" },
    ]);
  } finally {
    await llm.close();
  }
});

Deno.test("llm_call adapts to endpoints that refuse max_tokens and temperature (newer OpenAI models)", async () => {
  const llm = await startFakeLlm((request) => {
    if ("max_tokens" in request.body) {
      return {
        status: 400,
        errorBody: {
          error: { message: "Unsupported parameter: 'max_tokens'. Use 'max_completion_tokens'." },
        },
      };
    }
    if ("temperature" in request.body) {
      return {
        status: 400,
        errorBody: { error: { message: "Unsupported value: 'temperature' does not support 0.7" } },
      };
    }
    return { content: "fine" };
  });
  try {
    const handlers = createLlmEffectHandlers({ ...base, baseUrl: llm.baseUrl, model: "gpt-5-mini" });
    const result = completed(
      await call(handlers, { prompt: "hi", params: { temperature: 0.7, max_output_tokens: 50 } }),
    );
    assert.equal(result.content, "fine");
    assert.deepEqual((result.metadata as JsonObject).request_adjustments, [
      "max_tokens→max_completion_tokens",
      "dropped temperature",
    ]);
    assert.equal(llm.requests.length, 3);
    assert.equal(llm.requests[2].body.max_completion_tokens, 50);
    const other = await call(handlers, {
      prompt: "x",
      params: { base_url: llm.baseUrl.replace("/v1", "/nope") },
    });
    assert.equal(other.status, "failed");
    assert.match((other as { error: string }).error, /^LLM request failed: HTTP 404/);
  } finally {
    await llm.close();
  }
});

Deno.test("llm_call fails clearly on a 200 answer without choices", async () => {
  const handlers = createLlmEffectHandlers({
    ...base,
    baseUrl: "http://127.0.0.1:9/v1",
    model: "m",
    fetch: () => Promise.resolve(Response.json({ error: "quota" })),
  });
  assert.deepEqual(await call(handlers, { prompt: "hi" }), {
    status: "failed",
    error: 'LLM response from http://127.0.0.1:9/v1/chat/completions has no choices: {"error":"quota"}',
  });
});

Deno.test("llm_call retries a truncated answer with a larger budget, then fails unless allowed", async () => {
  const llm = await startFakeLlm((request) =>
    Number(request.body.max_tokens) >= 400
      ? { content: "complete" }
      : { content: "cut", finishReason: "length" }
  );
  try {
    const handlers = createLlmEffectHandlers({ ...base, baseUrl: llm.baseUrl, model: "m" });
    const grown = completed(await call(handlers, { prompt: "long", params: { max_tokens: 100 } }));
    assert.equal(grown.content, "complete");
    assert.deepEqual((grown.metadata as JsonObject).request_adjustments, [
      "max_tokens 100→200 (truncated)",
      "max_tokens 200→400 (truncated)",
    ]);
    assert.deepEqual(await call(handlers, { prompt: "long", params: { max_tokens: 10 } }), {
      status: "failed",
      error:
        "LLM output was truncated (finish_reason=length) after 3 attempts; raise max_output_tokens or set allow_truncation",
    });
    const allowed = completed(await call(handlers, { prompt: "long", allow_truncation: true }));
    assert.equal(allowed.content, "cut");
    assert.equal(allowed.finish_reason, "length");
  } finally {
    await llm.close();
  }
});
