import assert from "node:assert/strict";
import { LlmRequestError, postChatCompletion } from "../../../src/runtime/llm/client.ts";
import { backoffMs, retryAfterMs } from "../../../src/runtime/llm/retry.ts";
import { startFakeLlm } from "../../helpers/fake_llm.ts";

const KEY = "sk-test-secret-123";
/** assert.rejects validator matching the error message only (not "Name: message"). */
const message = (re: RegExp) => (error: Error) => {
  assert.match(error.message, re);
  return true;
};

const body = { model: "m1", messages: [{ role: "user", content: "hi" }], stream: false };

Deno.test("client posts an OpenAI chat request with bearer key and returns the JSON", async () => {
  const llm = await startFakeLlm([{ content: "hello" }]);
  try {
    const res = await postChatCompletion(
      { baseUrl: llm.baseUrl, apiKey: KEY, timeoutS: 5, maxRetries: 0 },
      body,
    );
    assert.equal(res.url, `${llm.baseUrl}/chat/completions`);
    assert.equal(res.attempts, 1);
    const choices = res.json.choices as { message: { content: string } }[];
    assert.equal(choices[0].message.content, "hello");
    assert.equal(llm.requests.length, 1);
    assert.equal(llm.requests[0].headers.authorization, `Bearer ${KEY}`);
    assert.deepEqual(llm.requests[0].body, body);
  } finally {
    await llm.close();
  }
});

Deno.test("client retries 500 and 429 with backoff, then succeeds", async () => {
  const llm = await startFakeLlm([{ status: 500 }, { status: 429 }, { content: "third time" }]);
  try {
    const res = await postChatCompletion(
      { baseUrl: llm.baseUrl, timeoutS: 5, maxRetries: 3, retryBaseMs: 10 },
      body,
    );
    assert.equal(res.attempts, 3);
    assert.equal(llm.requests.length, 3);
  } finally {
    await llm.close();
  }
});

Deno.test("client honours Retry-After on 429", async () => {
  const llm = await startFakeLlm([{ status: 429, headers: { "retry-after": "1" } }, { content: "ok" }]);
  try {
    const began = performance.now();
    const res = await postChatCompletion(
      { baseUrl: llm.baseUrl, timeoutS: 5, maxRetries: 1, retryBaseMs: 1 },
      body,
    );
    assert.equal(res.attempts, 2);
    assert.ok(performance.now() - began >= 900, "waited for Retry-After");
  } finally {
    await llm.close();
  }
});

Deno.test("client gives up after maxRetries with the endpoint and status, never the key", async () => {
  const llm = await startFakeLlm(() => ({ status: 503, errorBody: `overloaded, key was ${KEY}` }));
  try {
    await assert.rejects(
      postChatCompletion(
        { baseUrl: llm.baseUrl, apiKey: KEY, timeoutS: 5, maxRetries: 2, retryBaseMs: 5 },
        body,
      ),
      (error: Error) => {
        assert.ok(error instanceof LlmRequestError);
        assert.match(error.message, /^LLM request failed after 3 attempts: HTTP 503/);
        assert.ok(error.message.includes(`${llm.baseUrl}/chat/completions`));
        assert.ok(!error.message.includes(KEY), error.message);
        return true;
      },
    );
    assert.equal(llm.requests.length, 3);
  } finally {
    await llm.close();
  }
});

Deno.test("client does not retry 401 and explains it", async () => {
  const llm = await startFakeLlm([{ status: 401, errorBody: { error: { message: "bad key" } } }]);
  try {
    await assert.rejects(
      postChatCompletion(
        { baseUrl: llm.baseUrl, apiKey: KEY, timeoutS: 5, maxRetries: 3, retryBaseMs: 5 },
        body,
      ),
      message(
        /^LLM request failed: HTTP 401 .*chat\/completions \(check ABSTRACTGATEWAY_LLM_API_KEY\): .*bad key/,
      ),
    );
    assert.equal(llm.requests.length, 1);
  } finally {
    await llm.close();
  }
});

Deno.test("client times out a slow answer and retries it", async () => {
  const llm = await startFakeLlm([{ delayMs: 2000, content: "late" }, { content: "fast" }, {
    delayMs: 2000,
  }]);
  try {
    const res = await postChatCompletion({
      baseUrl: llm.baseUrl,
      timeoutS: 0.2,
      maxRetries: 1,
      retryBaseMs: 5,
    }, body);
    assert.equal(res.attempts, 2);
    await assert.rejects(
      postChatCompletion({ baseUrl: llm.baseUrl, timeoutS: 0.2, maxRetries: 0 }, body),
      message(
        /^LLM request failed: timed out after 0.2s waiting for http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions$/,
      ),
    );
  } finally {
    await llm.close();
  }
});

Deno.test("client reports a network error (nothing listening) after retrying", async () => {
  const llm = await startFakeLlm([]);
  const baseUrl = llm.baseUrl;
  await llm.close();
  await assert.rejects(
    postChatCompletion({ baseUrl, timeoutS: 2, maxRetries: 1, retryBaseMs: 5 }, body),
    message(
      /^LLM request failed after 2 attempts: network error calling http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions/,
    ),
  );
});

Deno.test("backoff doubles with jitter and is capped; Retry-After parses seconds and dates", () => {
  const fixed = { baseMs: 100, capMs: 1000, random: () => 1 };
  assert.equal(backoffMs(1, fixed), 100);
  assert.equal(backoffMs(2, fixed), 200);
  assert.equal(backoffMs(5, fixed), 1000);
  assert.equal(backoffMs(2, { ...fixed, random: () => 0 }), 100);
  assert.equal(retryAfterMs("2"), 2000);
  assert.equal(retryAfterMs(null), null);
  assert.equal(retryAfterMs("soon"), null);
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(retryAfterMs("Thu, 01 Jan 2026 00:00:03 GMT", now), 3000);
});

Deno.test("client hints at /v1 when a base URL without it gets 404", async () => {
  const llm = await startFakeLlm([]);
  try {
    await assert.rejects(
      postChatCompletion({ baseUrl: llm.baseUrl.replace(/\/v1$/, ""), timeoutS: 5, maxRetries: 0 }, body),
      message(
        /^LLM request failed: HTTP 404 Not Found from .* \(OpenAI-compatible base URLs usually end with \/v1\)/,
      ),
    );
  } finally {
    await llm.close();
  }
});
