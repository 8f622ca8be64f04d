/**
 * Contract scenarios 2-4, 6, 7 and 22 (gateway-contract §11) against the real app: openGateway +
 * createApp + the security layer, with the runner on.
 */
import assert from "node:assert/strict";
import { startRealApp } from "./_real_app.ts";

const TOKEN = "real-app-token-7Hq2mZ9xW4pL";
const H = { authorization: `Bearer ${TOKEN}` };
const JSON_H = { ...H, "content-type": "application/json" };

async function auditLast(app: Awaited<ReturnType<typeof startRealApp>>): Promise<Record<string, unknown>> {
  await app.audit.flush();
  const lines = (await Deno.readTextFile(app.audit.path)).trimEnd().split("\n");
  return JSON.parse(lines.at(-1)!);
}

Deno.test("real app: auth, audit, request ids, origins and body limits", async () => {
  const app = await startRealApp({
    ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN,
    ABSTRACTGATEWAY_MAX_BODY_BYTES: "2000",
  }, true);
  try {
    // #2 read auth
    const denied = await fetch(`${app.base}/api/gateway/runs`);
    assert.equal(denied.status, 401);
    assert.deepEqual(await denied.json(), { detail: "Unauthorized" });
    assert.equal(denied.headers.get("www-authenticate"), "Bearer");
    assert.ok(denied.headers.get("x-request-id"));
    const runs = await fetch(`${app.base}/api/gateway/runs`, { headers: H });
    assert.equal(runs.status, 200);
    assert.ok(Array.isArray((await runs.json()).items));

    // #3 write auth + audit
    const anon = await fetch(`${app.base}/api/gateway/commands`, { method: "POST", body: "{}" });
    assert.equal(anon.status, 401);
    await anon.body?.cancel();
    let last = await auditLast(app);
    assert.equal(last.method, "POST");
    assert.equal(last.path, "/api/gateway/commands");
    assert.equal(last.status, 401);
    assert.equal(last.auth_required, true);
    assert.equal(last.request_id, anon.headers.get("x-request-id"));
    const start = await fetch(`${app.base}/api/gateway/runs/start`, {
      method: "POST",
      headers: JSON_H,
      body: JSON.stringify({ bundle_id: "demo", input_data: {} }),
    });
    assert.equal(start.status, 200);
    const { run_id } = await start.json();
    const cmd = await fetch(`${app.base}/api/gateway/commands`, {
      method: "POST",
      headers: JSON_H,
      body: JSON.stringify({ command_id: "c1", run_id, type: "pause", payload: { reason: "ops" } }),
    });
    assert.equal(cmd.status, 200);
    await cmd.body?.cancel();
    last = await auditLast(app);
    assert.equal(last.status, 200);
    assert.equal(last.principal_user_id, "local-admin");
    assert.ok(!(await Deno.readTextFile(app.audit.path)).includes(TOKEN));

    // a body sent without Content-Length is read under the cap and still reaches the handler intact
    const chunks = [`{"command_id":"c-chunked","run_id":"${run_id}",`, `"type":"pause","payload":{}}`];
    const chunked = await fetch(`${app.base}/api/gateway/commands`, {
      method: "POST",
      headers: JSON_H,
      body: ReadableStream.from(chunks.map((c) => new TextEncoder().encode(c))),
    });
    assert.equal(chunked.status, 200, await chunked.clone().text());
    assert.equal((await chunked.json()).accepted, true);
    assert.equal((await app.gw.stores.commands.get("c-chunked"))?.type, "pause");

    // #4 request id echo
    const echoed = await fetch(`${app.base}/api/gateway/ping`, { headers: { ...H, "x-request-id": "abc" } });
    assert.equal(echoed.headers.get("x-request-id"), "abc");
    await echoed.body?.cancel();

    // #6 origins
    const evil = await fetch(`${app.base}/api/gateway/runs`, {
      headers: { ...H, origin: "http://evil.example" },
    });
    assert.equal(evil.status, 403);
    assert.deepEqual(await evil.json(), { detail: "Forbidden (origin not allowed)" });
    const local = await fetch(`${app.base}/api/gateway/runs`, {
      headers: { ...H, origin: "http://localhost:5173" },
    });
    assert.equal(local.status, 200);
    assert.equal(local.headers.get("access-control-allow-origin"), "http://localhost:5173");
    await local.body?.cancel();

    // #7 body limit
    const big = await fetch(`${app.base}/api/gateway/commands`, {
      method: "POST",
      headers: JSON_H,
      body: JSON.stringify({ command_id: "c2", run_id, type: "pause", payload: { pad: "x".repeat(10_000) } }),
    });
    assert.equal(big.status, 413);
    assert.match((await big.json()).detail, /^Payload Too Large \(\d+ bytes > 2000 bytes\)$/);

    // /me and the admin audit route
    const me = await (await fetch(`${app.base}/api/gateway/me`, { headers: H })).json();
    assert.equal(me.principal.user_id, "local-admin");
    assert.match(me.principal.token_fingerprint, /^[0-9a-f]{12}$/);
    const tail = await fetch(`${app.base}/api/gateway/audit/tail?max_bytes=2000`, { headers: H });
    assert.equal(tail.status, 200);
    const body = await tail.json();
    assert.equal(body.ok, true);
    assert.ok(body.content.includes('"status":413'));
    const badTail = await fetch(`${app.base}/api/gateway/audit/tail?max_bytes=10`, { headers: H });
    assert.equal(badTail.status, 422);
    await badTail.body?.cancel();
  } finally {
    await app.close();
  }
});

Deno.test("real app: MAX_SSE=1 refuses a second ledger stream while one is open (#22)", async () => {
  const app = await startRealApp({ ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN, ABSTRACTGATEWAY_MAX_SSE: "1" }, true);
  try {
    const start = await fetch(`${app.base}/api/gateway/runs/start`, {
      method: "POST",
      headers: JSON_H,
      body: JSON.stringify({ bundle_id: "demo", input_data: {} }),
    });
    const { run_id } = await start.json();
    const url = `${app.base}/api/gateway/runs/${run_id}/ledger/stream?heartbeat_s=0.2`;
    const first = await fetch(url, { headers: H });
    assert.equal(first.status, 200);
    const reader = first.body!.getReader();
    await reader.read();
    const second = await fetch(url, { headers: H });
    assert.equal(second.status, 429);
    assert.deepEqual(await second.json(), { detail: "Too Many Requests (concurrency limit)" });
    assert.equal(second.headers.get("retry-after"), "1");
    await reader.cancel();
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const again = await fetch(url, { headers: H });
      status = again.status;
      await again.body?.cancel();
    }
    assert.equal(status, 200, "the slot is free again once the first stream is closed");
  } finally {
    await app.close();
  }
});
