/** Body limits, concurrency caps and request timeouts over real HTTP (contract §11 #7, #22). */
import assert from "node:assert/strict";
import { AUTH, call, startTestServer, until } from "./_harness.ts";

const encoder = new TextEncoder();

/** A request body without Content-Length (sent chunked), in pieces of `chunk` bytes. */
function chunkedBody(total: number, chunk = 1000): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const n = Math.min(chunk, total - sent);
      controller.enqueue(encoder.encode("x".repeat(n)));
      sent += n;
    },
  });
}

Deno.test("body limit: 413 on Content-Length and on chunked bodies; small chunked bodies arrive intact", async () => {
  const s = await startTestServer({ ABSTRACTGATEWAY_MAX_BODY_BYTES: "2000" });
  try {
    const url = `${s.url}/api/gateway/commands`;
    const big = JSON.stringify({ command_id: "c", payload: "y".repeat(10_000) });
    const declared = await call(url, { method: "POST", headers: AUTH, body: big });
    assert.equal(declared.status, 413);
    assert.equal(
      (declared.json() as { detail: string }).detail,
      `Payload Too Large (${encoder.encode(big).byteLength} bytes > 2000 bytes)`,
    );
    const chunked = await call(url, { method: "POST", headers: AUTH, body: chunkedBody(10_000, 700) });
    assert.equal(chunked.status, 413);
    assert.match(
      (chunked.json() as { detail: string }).detail,
      /^Payload Too Large \(2100 bytes > 2000 bytes\)$/,
    );
    const small = await call(url, { method: "POST", headers: AUTH, body: chunkedBody(1500, 100) });
    assert.equal(small.status, 200);
    assert.equal((small.json() as { bytes: number }).bytes, 1500);
    const unauthenticated = await call(url, { method: "POST", body: big });
    assert.equal(unauthenticated.status, 401, "auth runs before the body limit");
  } finally {
    await s.close();
  }
});

Deno.test("upload routes get the larger upload cap", async () => {
  const s = await startTestServer({
    ABSTRACTGATEWAY_MAX_BODY_BYTES: "1000",
    ABSTRACTGATEWAY_MAX_UPLOAD_BODY_BYTES: "5000",
  });
  try {
    const url = `${s.url}/api/gateway/bundles/upload`;
    const ok = await call(url, { method: "POST", headers: AUTH, body: "z".repeat(4000) });
    assert.equal(ok.status, 200);
    assert.equal((ok.json() as { bytes: number }).bytes, 4000);
    const big = await call(url, { method: "POST", headers: AUTH, body: "z".repeat(6000) });
    assert.equal(big.status, 413);
    assert.equal((big.json() as { detail: string }).detail, "Payload Too Large (6000 bytes > 5000 bytes)");
  } finally {
    await s.close();
  }
});

async function openStream(url: string, headers: Record<string, string>) {
  const res = await fetch(url, { headers });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  await reader.read(); // the first frame: the stream is live
  return reader;
}

Deno.test("SSE pool: MAX_SSE=1 refuses a second stream until the first closes", async () => {
  const s = await startTestServer({ ABSTRACTGATEWAY_MAX_SSE: "1" });
  try {
    const url = `${s.url}/api/gateway/runs/r1/ledger/stream`;
    const first = await openStream(url, AUTH);
    const second = await call(url, { headers: AUTH });
    assert.equal(second.status, 429);
    assert.equal(second.text, '{"detail":"Too Many Requests (concurrency limit)"}');
    assert.equal(second.headers.get("retry-after"), "1");
    assert.equal(
      (await call(`${s.url}/api/gateway/runs`, { headers: AUTH })).status,
      200,
      "general pool apart",
    );
    await first.cancel();
    await until(() => s.openStreams() === 0);
    const third = await openStream(url, AUTH);
    await third.cancel();
    await until(() => s.openStreams() === 0);
  } finally {
    await s.close();
  }
});

Deno.test("SSE per-token cap: one token cannot take every stream slot", async () => {
  const other = "other-token-zyxwvutsrqponmlk";
  const s = await startTestServer({
    ABSTRACTGATEWAY_AUTH_TOKENS: other,
    ABSTRACTGATEWAY_MAX_SSE: "5",
    ABSTRACTGATEWAY_MAX_SSE_PER_TOKEN: "1",
  });
  try {
    const url = `${s.url}/api/gateway/runs/r1/ledger/stream`;
    const mine = await openStream(url, AUTH);
    assert.equal((await call(url, { headers: AUTH })).status, 429);
    const theirs = await openStream(url, { authorization: `Bearer ${other}` });
    await mine.cancel();
    await theirs.cancel();
    await until(() => s.openStreams() === 0);
  } finally {
    await s.close();
  }
});

Deno.test("general pool: MAX_CONCURRENCY=1 refuses while a request is in flight", async () => {
  const s = await startTestServer({ ABSTRACTGATEWAY_MAX_CONCURRENCY: "1" });
  try {
    const slow = call(`${s.url}/api/gateway/slow?ms=300`, { headers: AUTH });
    await new Promise((r) => setTimeout(r, 100));
    const busy = await call(`${s.url}/api/gateway/runs`, { headers: AUTH });
    assert.equal(busy.status, 429);
    assert.equal(busy.headers.get("retry-after"), "1");
    assert.equal((await slow).status, 200);
    assert.equal((await call(`${s.url}/api/gateway/runs`, { headers: AUTH })).status, 200);
  } finally {
    await s.close();
  }
});

Deno.test("slots are returned after HEAD requests and after streams a client never reads", async () => {
  const s = await startTestServer({ ABSTRACTGATEWAY_MAX_CONCURRENCY: "1", ABSTRACTGATEWAY_MAX_SSE: "1" });
  try {
    for (let i = 0; i < 3; i++) {
      const head = await call(`${s.url}/api/gateway/runs`, { method: "HEAD", headers: AUTH });
      assert.equal(head.status, 200, `HEAD #${i + 1}`);
    }
    const stream = `${s.url}/api/gateway/runs/r/ledger/stream`;
    for (let i = 0; i < 3; i++) {
      const head = await call(stream, { method: "HEAD", headers: AUTH });
      assert.equal(head.status, 200, `HEAD stream #${i + 1}`);
      await until(() => s.openStreams() === 0); // the stream's producer was cancelled
    }
  } finally {
    await s.close();
  }
});

Deno.test("request timeout: 503 for slow non-streaming routes; the slot waits for the handler", async () => {
  const s = await startTestServer({
    ABSTRACTGATEWAY_REQUEST_TIMEOUT_S: "0.2",
    ABSTRACTGATEWAY_MAX_CONCURRENCY: "1",
  });
  try {
    const started = Date.now();
    const res = await call(`${s.url}/api/gateway/slow?ms=500`, { headers: AUTH });
    assert.equal(res.status, 503);
    assert.equal(res.text, '{"detail":"Request timed out after 0.2s"}');
    assert.ok(Date.now() - started < 450, "answered at the deadline, not when the handler finished");
    assert.equal((await call(`${s.url}/api/gateway/runs`, { headers: AUTH })).status, 429);
    await s.slowHandlersDone();
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 10));
      status = (await call(`${s.url}/api/gateway/runs`, { headers: AUTH })).status;
    }
    assert.equal(status, 200, "the slot is released once the abandoned handler has finished");
    let sent = 0;
    const slowUpload = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent++ === 4) return controller.close();
        await new Promise((r) => setTimeout(r, 80));
        controller.enqueue(encoder.encode("u".repeat(100)));
      },
    });
    const upload = await call(`${s.url}/api/gateway/bundles/upload`, {
      method: "POST",
      headers: AUTH,
      body: slowUpload,
    });
    assert.equal(upload.status, 200, "uploads are not cut by the request timeout");
    assert.equal((upload.json() as { bytes: number }).bytes, 400);
    const stream = await openStream(`${s.url}/api/gateway/runs/r/ledger/stream`, AUTH);
    await new Promise((r) => setTimeout(r, 300));
    await stream.cancel(); // streams outlive the request timeout
    await until(() => s.openStreams() === 0);
  } finally {
    await s.close();
  }
});
