/** Authentication, principals, request ids and admin-only routes over real HTTP (contract §11 #2-#4). */
import assert from "node:assert/strict";
import { auditLines, AUTH, call, startTestServer, TOKEN } from "./_harness.ts";
import { tokenFingerprint } from "../../src/security/tokens.ts";
import { setLogLevel } from "../../src/util/log.ts";

Deno.test("reads need a token: 401 with WWW-Authenticate and a request id; 200 with the token", async () => {
  const s = await startTestServer();
  try {
    const denied = await call(`${s.url}/api/gateway/runs`);
    assert.equal(denied.status, 401);
    assert.equal(denied.text, '{"detail":"Unauthorized"}');
    assert.equal(denied.headers.get("www-authenticate"), "Bearer");
    assert.equal(denied.headers.get("content-type"), "application/json; charset=utf-8");
    assert.match(denied.headers.get("x-request-id") ?? "", /^[0-9a-f]{32}$/);
    const ok = await call(`${s.url}/api/gateway/runs`, { headers: AUTH });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json(), { items: [] });
    const lower = await call(`${s.url}/api/gateway/runs`, {
      headers: { authorization: `bearer   ${TOKEN}  ` },
    });
    assert.equal(lower.status, 200, "scheme is case-insensitive and the value trimmed");
    const health = await call(`${s.url}/api/health`);
    assert.equal(health.status, 200, "routes outside /api/gateway are not guarded");
  } finally {
    await s.close();
  }
});

Deno.test("writes need a token and are audited with the request id, never the raw token", async () => {
  const s = await startTestServer();
  try {
    const denied = await call(`${s.url}/api/gateway/commands`, { method: "POST", body: "{}" });
    assert.equal(denied.status, 401);
    let lines = await auditLines(s);
    const last = lines.at(-1)!;
    assert.equal(last.method, "POST");
    assert.equal(last.path, "/api/gateway/commands");
    assert.equal(last.status, 401);
    assert.equal(last.auth_required, true);
    assert.equal(last.request_id, denied.headers.get("x-request-id"));

    const wrong = await call(`${s.url}/api/gateway/commands?api_key=sekrit1&x=2`, {
      method: "POST",
      headers: {
        authorization: "Bearer wrong-token-value-123",
        "x-client-id": "cli-7",
        "user-agent": "ua/1",
      },
      body: "{}",
    });
    assert.equal(wrong.status, 401);
    const ok = await call(`${s.url}/api/gateway/commands`, {
      method: "POST",
      headers: { ...AUTH, "content-type": "application/json", origin: "http://localhost:5173" },
      body: '{"command_id":"c1"}',
    });
    assert.equal(ok.status, 200);
    lines = await auditLines(s);
    assert.equal(lines.length, 3);
    const [, bad, good] = lines;
    assert.equal(bad.auth_token_fp, await tokenFingerprint("wrong-token-value-123"));
    assert.equal(bad.query, "api_key=<redacted>&x=<redacted>");
    assert.deepEqual(bad.headers, { "x-client-id": "cli-7" });
    assert.equal(bad.user_agent, "ua/1");
    assert.equal(good.status, 200);
    assert.equal(good.auth_token_fp, await tokenFingerprint(TOKEN));
    assert.equal(good.principal_user_id, "local-admin");
    assert.equal(good.principal_tenant_id, "local");
    assert.equal(good.origin, "http://localhost:5173");
    assert.equal(good.bytes_in, 19);
    assert.equal(typeof good.duration_ms, "number");
    assert.match(String(good.ts), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    const raw = await Deno.readTextFile(s.security.audit.path);
    assert.ok(!raw.includes(TOKEN), "raw token in the audit log");
    assert.ok(!raw.includes("wrong-token-value-123"), "raw wrong token in the audit log");
    assert.ok(!raw.includes("sekrit1"), "query value in the audit log");
    const reads = await call(`${s.url}/api/gateway/runs`, { headers: AUTH });
    assert.equal(reads.status, 200);
    assert.equal((await auditLines(s)).length, 3, "successful reads are not audited");
  } finally {
    await s.close();
  }
});

Deno.test("failed reads are audited as auth failures", async () => {
  const s = await startTestServer();
  try {
    assert.equal((await call(`${s.url}/api/gateway/runs`)).status, 401);
    const [line] = await auditLines(s);
    assert.equal(line.method, "GET");
    assert.equal(line.status, 401);
  } finally {
    await s.close();
  }
});

Deno.test("request id: a sane X-Request-Id is echoed, an insane one replaced", async () => {
  const s = await startTestServer();
  try {
    const echoed = await call(`${s.url}/api/gateway/runs`, { headers: { ...AUTH, "x-request-id": "abc" } });
    assert.equal(echoed.headers.get("x-request-id"), "abc");
    const replaced = await call(`${s.url}/api/gateway/runs`, { headers: { "x-request-id": "a b\u00e9c" } });
    assert.match(replaced.headers.get("x-request-id") ?? "", /^[0-9a-f]{32}$/);
  } finally {
    await s.close();
  }
});

Deno.test("token holders are admins; the principal carries the token fingerprint", async () => {
  const s = await startTestServer({ ABSTRACTGATEWAY_AUTH_TOKENS: "second-token-abcdefghijklmnop" });
  try {
    const me = await call(`${s.url}/api/gateway/whoami`, {
      headers: { authorization: "Bearer second-token-abcdefghijklmnop" },
    });
    assert.deepEqual(me.json(), {
      principal: {
        user_id: "local-admin",
        tenant_id: "local",
        roles: ["admin", "user"],
        scopes: ["*"],
        token_fingerprint: await tokenFingerprint("second-token-abcdefghijklmnop"),
        runtime_id: "local-admin",
        source: "legacy-token",
        admin: true,
      },
    });
    const tail = await call(`${s.url}/api/gateway/audit/tail`, { headers: AUTH });
    assert.equal(tail.status, 200);
    assert.deepEqual(Object.keys(tail.json() as object).sort(), ["bytes", "content", "ok", "truncated"]);
  } finally {
    await s.close();
  }
});

Deno.test("PROTECT_READ=0 makes token-less readers anonymous, never admins", async () => {
  const s = await startTestServer({ ABSTRACTGATEWAY_PROTECT_READ: "0" });
  try {
    const me = await call(`${s.url}/api/gateway/whoami`);
    assert.equal(me.status, 200);
    const principal = (me.json() as { principal: Record<string, unknown> }).principal;
    assert.equal(principal.user_id, "anonymous");
    assert.equal(principal.admin, false);
    assert.deepEqual(principal.scopes, ["gateway:read"]);
    const tail = await call(`${s.url}/api/gateway/audit/tail`);
    assert.equal(tail.status, 403);
    assert.deepEqual(tail.json(), {
      detail: "Admin principal required",
      reason_code: "admin_required",
      required_role: "admin",
      resource_class: "audit",
      action: "read",
    });
    const encoded = await call(`${s.url}/api/gateway/%61udit/tail`);
    assert.equal(encoded.status, 403, "a percent-encoded admin path is still admin-only");
    const doubled = await call(`${s.url}/api/gateway//audit/tail`);
    assert.notEqual(doubled.status, 200);
    assert.equal((await call(`${s.url}/api/gateway/audit/tail`, { headers: AUTH })).status, 200);
    const wrong = await call(`${s.url}/api/gateway/runs`, { headers: { authorization: "Bearer nope" } });
    assert.equal(wrong.status, 401, "a wrong token is an error even where none is required");
    const write = await call(`${s.url}/api/gateway/commands`, { method: "POST", body: "{}" });
    assert.equal(write.status, 401, "writes stay protected");
  } finally {
    await s.close();
  }
});

Deno.test("PROTECT_WRITE=0 makes token-less writers anonymous; admin-only writes stay closed", async () => {
  const s = await startTestServer({ ABSTRACTGATEWAY_PROTECT_WRITE: "0" });
  try {
    const write = await call(`${s.url}/api/gateway/commands`, { method: "POST", body: "{}" });
    assert.equal(write.status, 200);
    const bloc = await call(`${s.url}/api/gateway/blocs/b1`, { method: "POST", body: "{}" });
    assert.equal(bloc.status, 403);
    assert.equal((bloc.json() as Record<string, unknown>).action, "write");
    assert.equal((bloc.json() as Record<string, unknown>).resource_class, "blocs");
    const [first] = await auditLines(s);
    assert.equal(first.principal_user_id, "anonymous");
    assert.equal(first.auth_required, false);
    assert.equal((await call(`${s.url}/api/gateway/runs`)).status, 401, "reads stay protected");
  } finally {
    await s.close();
  }
});

Deno.test("DEV_READ_NO_AUTH=1 lets loopback clients read as loopback-readonly, not write", async () => {
  const s = await startTestServer({ ABSTRACTGATEWAY_DEV_READ_NO_AUTH: "1" });
  try {
    const me = await call(`${s.url}/api/gateway/whoami`);
    const principal = (me.json() as { principal: Record<string, unknown> }).principal;
    assert.equal(principal.user_id, "loopback-readonly");
    assert.deepEqual(principal.roles, ["readonly"]);
    assert.equal(principal.admin, false);
    assert.equal((await call(`${s.url}/api/gateway/audit/tail`)).status, 403);
    assert.equal((await call(`${s.url}/api/gateway/commands`, { method: "POST", body: "{}" })).status, 401);
  } finally {
    await s.close();
  }
});

Deno.test("auth required but no token configured → 503", async () => {
  const s = await startTestServer({ ABSTRACTGATEWAY_AUTH_TOKEN: "" });
  try {
    const res = await call(`${s.url}/api/gateway/runs`, { headers: AUTH });
    assert.equal(res.status, 503);
    assert.equal(res.text, '{"detail":"Gateway auth required but no token configured"}');
  } finally {
    await s.close();
  }
});

Deno.test("SECURITY=0 passes everything through as the local admin", async () => {
  const s = await startTestServer({ ABSTRACTGATEWAY_SECURITY: "0" });
  try {
    const me = await call(`${s.url}/api/gateway/whoami`);
    const principal = (me.json() as { principal: Record<string, unknown> }).principal;
    assert.equal(principal.source, "security-disabled");
    assert.equal(principal.admin, true);
  } finally {
    await s.close();
  }
});

Deno.test("a handler's exception is audited with its status and error text", async () => {
  const s = await startTestServer();
  setLogLevel("none");
  try {
    const res = await call(`${s.url}/api/gateway/explode`, { method: "POST", headers: AUTH, body: "{}" });
    assert.equal(res.status, 500);
    const [line] = await auditLines(s);
    assert.equal(line.status, 500);
    assert.equal(line.error, "Error: boom");
  } finally {
    setLogLevel("info");
    await s.close();
  }
});
