/** Origin allow-list and CORS over real HTTP (contract §11 #6; preflights only for allowed origins). */
import assert from "node:assert/strict";
import { AUTH, call, startTestServer } from "./_harness.ts";

Deno.test("a disallowed Origin gets 403; allowed and absent origins pass", async () => {
  const s = await startTestServer();
  try {
    const runs = `${s.url}/api/gateway/runs`;
    const evil = await call(runs, { headers: { ...AUTH, origin: "http://evil.example" } });
    assert.equal(evil.status, 403);
    assert.equal(evil.text, '{"detail":"Forbidden (origin not allowed)"}');
    assert.equal(evil.headers.get("access-control-allow-origin"), null);
    assert.equal((await call(runs, { headers: { ...AUTH, origin: "https://localhost:5173" } })).status, 403);
    assert.equal((await call(runs, { headers: { ...AUTH, origin: "null" } })).status, 403);
    assert.equal(
      (await call(runs, { headers: { ...AUTH, origin: "http://localhost:1@evil.example" } })).status,
      403,
      "globs only match well-formed origins",
    );
    const local = await call(runs, { headers: { ...AUTH, origin: "http://localhost:5173" } });
    assert.equal(local.status, 200);
    assert.equal(local.headers.get("access-control-allow-origin"), "http://localhost:5173");
    assert.match(local.headers.get("vary") ?? "", /Origin/);
    const none = await call(runs, { headers: AUTH });
    assert.equal(none.status, 200);
    assert.equal(none.headers.get("access-control-allow-origin"), null);
  } finally {
    await s.close();
  }
});

Deno.test("glob patterns: ngrok wildcard origins", async () => {
  const s = await startTestServer({ ABSTRACTGATEWAY_ALLOWED_ORIGINS: "https://*.ngrok-free.app" });
  try {
    const runs = `${s.url}/api/gateway/runs`;
    assert.equal(
      (await call(runs, { headers: { ...AUTH, origin: "https://abc.ngrok-free.app" } })).status,
      200,
    );
    assert.equal((await call(runs, { headers: { ...AUTH, origin: "http://localhost:5173" } })).status, 403);
  } finally {
    await s.close();
  }
});

Deno.test("preflight: answered 204 for allowed origins only", async () => {
  const s = await startTestServer();
  try {
    const url = `${s.url}/api/gateway/commands`;
    const ok = await call(url, {
      method: "OPTIONS",
      headers: {
        origin: "http://127.0.0.1:3000",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get("access-control-allow-origin"), "http://127.0.0.1:3000");
    assert.equal(ok.headers.get("access-control-allow-headers"), "authorization, content-type");
    assert.match(ok.headers.get("access-control-allow-methods") ?? "", /POST/);
    assert.equal(ok.headers.get("access-control-max-age"), "600");
    const evil = await call(url, {
      method: "OPTIONS",
      headers: { origin: "http://evil.example", "access-control-request-method": "POST" },
    });
    assert.equal(evil.status, 403);
    assert.equal(evil.headers.get("access-control-allow-origin"), null);
    assert.equal(evil.headers.get("access-control-allow-methods"), null);
  } finally {
    await s.close();
  }
});

Deno.test("rejections to allowed origins stay readable by the browser", async () => {
  const s = await startTestServer();
  try {
    const res = await call(`${s.url}/api/gateway/runs`, { headers: { origin: "http://localhost:8000" } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("access-control-allow-origin"), "http://localhost:8000");
    assert.match(res.headers.get("access-control-expose-headers") ?? "", /X-Request-Id/);
    assert.match(res.headers.get("access-control-expose-headers") ?? "", /Retry-After/);
  } finally {
    await s.close();
  }
});
