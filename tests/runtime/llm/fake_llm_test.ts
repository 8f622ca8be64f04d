/** The test helper itself: routes, default replies, scripted functions, and close() with pending delays. */
import assert from "node:assert/strict";
import { exampleFor, startFakeLlm } from "../../helpers/fake_llm.ts";

const post = (url: string, body: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

Deno.test("fake LLM: /v1/models, 404s, echo default, JSON for response_format, function scripts", async () => {
  const llm = await startFakeLlm({
    replies: [{ content: "first" }],
    respond: (req, index) =>
      index === 1 ? { content: `second saw ${req.body.model}` } : { json: { n: index } },
    models: ["a", "b"],
  });
  try {
    const models = await (await fetch(`${llm.baseUrl}/models`)).json();
    assert.deepEqual(models.data.map((m: { id: string }) => m.id), ["a", "b"]);
    const missing = await fetch(`${llm.baseUrl}/nothing`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const say = async (body: unknown) => (await (await post(`${llm.baseUrl}/chat/completions`, body)).json());
    const messages = [{ role: "user", content: "hi" }];
    assert.equal((await say({ model: "m", messages })).choices[0].message.content, "first");
    assert.equal((await say({ model: "m", messages })).choices[0].message.content, "second saw m");
    assert.equal((await say({ model: "m", messages })).choices[0].message.content, '{"n":2}');
    assert.equal(llm.requests.length, 3);
  } finally {
    await llm.close();
  }
  const echo = await startFakeLlm();
  try {
    const reply = await (await post(`${echo.baseUrl}/chat/completions`, {
      messages: [{ role: "user", content: "ping" }],
      response_format: {
        type: "json_schema",
        json_schema: { name: "x", schema: { type: "object", properties: { ok: { type: "boolean" } } } },
      },
    })).json();
    assert.equal(reply.choices[0].message.content, '{"ok":false}');
    const plain =
      await (await post(`${echo.baseUrl}/chat/completions`, { messages: [{ role: "user", content: "yo" }] }))
        .json();
    assert.equal(plain.choices[0].message.content, "FAKE#2 reply to: yo");
  } finally {
    await echo.close();
  }
});

Deno.test("fake LLM: close() does not wait for scripted delays", async () => {
  const llm = await startFakeLlm([{ delayMs: 60_000, content: "never" }]);
  const pending = post(`${llm.baseUrl}/chat/completions`, { messages: [] }).then((r) => r.body?.cancel())
    .catch(() => {});
  while (llm.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
  // Hang detection (not a speed claim): without waking the delay, close() would take 60 s.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise((r) => timer = setTimeout(() => r("hung"), 20_000));
  const winner = await Promise.race([llm.close().then(() => "closed"), hung]);
  clearTimeout(timer);
  await pending;
  assert.equal(winner, "closed");
});

Deno.test("exampleFor builds minimal schema instances", () => {
  assert.deepEqual(
    exampleFor({
      type: "object",
      properties: {
        continue: { type: "boolean" },
        tasks: { type: "array", items: { type: "string" } },
        score: { type: "number" },
        mode: { type: "string", enum: ["fast", "slow"] },
      },
    }),
    { continue: false, tasks: [], score: 0, mode: "fast" },
  );
});
