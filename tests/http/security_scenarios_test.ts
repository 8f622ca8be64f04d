/** Conformance scenarios 2-7 and 22 against the app with the security middlewares mounted. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { askUserFlow } from "../helpers/bundles.ts";
import { DEMO, postJson, startRun, startServer, waitForRun } from "./harness.ts";

/** The audit line of one request (audit writes are asynchronous: wait for it). */
async function auditLine(dataDir: string, requestId: string | null): Promise<Record<string, unknown>> {
  const path = join(dataDir, "audit_log.jsonl");
  const deadline = Date.now() + 3000;
  for (;;) {
    const text = await Deno.readTextFile(path).catch(() => "");
    const lines = text.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
    const line = lines.find((l) => l.request_id === requestId);
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`no audit line for request ${requestId}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("read/write auth, audit, request id, origin allowlist, body limit (scenarios 2-4, 6, 7)", async () => {
  const s = await startServer({
    env: {
      ABSTRACTGATEWAY_MAX_BODY_BYTES: "2000",
      ABSTRACTGATEWAY_ALLOWED_ORIGINS: "http://localhost:*,https://*.ngrok-free.app",
    },
  });
  try {
    const anon = await s.json("/api/gateway/runs", { auth: false });
    assert.equal(anon.status, 401);
    assert.deepEqual(anon.body, { detail: "Unauthorized" });
    assert.equal(anon.res.headers.get("www-authenticate"), "Bearer");
    assert.ok(anon.res.headers.get("x-request-id"));
    const authed = await s.json("/api/gateway/runs");
    assert.equal(authed.status, 200);
    assert.ok(Array.isArray(authed.body.items));

    const denied = await s.json("/api/gateway/commands", { ...postJson({}), auth: false });
    assert.equal(denied.status, 401);
    const line = await auditLine(s.dataDir, denied.res.headers.get("x-request-id"));
    assert.equal(line.method, "POST");
    assert.equal(line.path, "/api/gateway/commands");
    assert.equal(line.status, 401);
    assert.equal(line.auth_required, true);

    const runId = await startRun(s, { bundle_id: "demo" });
    const ok = await s.json(
      "/api/gateway/commands",
      postJson({ command_id: "a1", run_id: runId, type: "pause" }),
    );
    assert.equal(ok.status, 200);
    assert.equal((await auditLine(s.dataDir, ok.res.headers.get("x-request-id"))).status, 200);
    const audit = await Deno.readTextFile(join(s.dataDir, "audit_log.jsonl"));
    assert.ok(!audit.includes("Bearer t"));

    const echoed = await s.json("/api/gateway/runs", { headers: { "X-Request-Id": "abc" } });
    assert.equal(echoed.res.headers.get("x-request-id"), "abc");

    const evil = await s.json("/api/gateway/runs", { headers: { Origin: "http://evil.example" } });
    assert.equal(evil.status, 403);
    assert.deepEqual(evil.body, { detail: "Forbidden (origin not allowed)" });
    assert.equal(
      (await s.json("/api/gateway/runs", { headers: { Origin: "http://localhost:5173" } })).status,
      200,
    );
    assert.equal(
      (await s.json("/api/gateway/runs", { headers: { Origin: "https://abc.ngrok-free.app" } })).status,
      200,
    );

    const big = await s.json(
      "/api/gateway/commands",
      postJson({ command_id: "big", run_id: runId, type: "pause", payload: { pad: "x".repeat(10_000) } }),
    );
    assert.equal(big.status, 413);
    assert.match(big.body.detail, /^Payload Too Large \(/);
  } finally {
    await s.close();
  }
});

Deno.test("auth lockout (scenario 5)", async () => {
  const s = await startServer({ env: { ABSTRACTGATEWAY_LOCKOUT_BASE_S: "10" } });
  try {
    const wrong = { headers: { Authorization: "Bearer wrong" } };
    for (let i = 0; i < 4; i++) assert.equal((await s.json("/api/gateway/runs", wrong)).status, 401);
    const locked = await s.json("/api/gateway/runs", wrong);
    assert.equal(locked.status, 429);
    assert.deepEqual(locked.body, { detail: "Too Many Requests (auth lockout)" });
    assert.equal(locked.res.headers.get("retry-after"), "10");
    assert.equal((await s.json("/api/gateway/runs")).status, 429);
  } finally {
    await s.close();
  }
});

Deno.test("SSE concurrency cap (scenario 22)", async () => {
  const ask = { bundleId: "ask", version: "1.0.0", flows: { root: askUserFlow("root") } };
  const s = await startServer({ bundles: [DEMO, ask], env: { ABSTRACTGATEWAY_MAX_SSE: "1" } });
  try {
    const runId = await startRun(s, { bundle_id: "ask" });
    await waitForRun(s, runId, (r) => r.status === "waiting");
    const first = await s.fetch(`/api/gateway/runs/${runId}/ledger/stream?heartbeat_s=1`);
    assert.equal(first.status, 200);
    const second = await s.json(`/api/gateway/runs/${runId}/ledger/stream?heartbeat_s=1`);
    assert.equal(second.status, 429);
    assert.deepEqual(second.body, { detail: "Too Many Requests (concurrency limit)" });
    assert.equal(second.res.headers.get("retry-after"), "1");
    await first.body!.cancel();
  } finally {
    await s.close();
  }
});
