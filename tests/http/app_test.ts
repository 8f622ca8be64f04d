/** App-level behaviour over real HTTP: health, OpenAPI + docs, request ids, error shapes, discovery. */
import assert from "node:assert/strict";
import { VERSION } from "../../src/cli/version.ts";
import { postJson, startServer } from "./harness.ts";

interface Operation {
  summary?: string;
  security?: Record<string, unknown>[];
}

Deno.test("health, ping, me, request id, unknown route", async () => {
  const s = await startServer();
  try {
    const health = await s.json("/api/health", { auth: false, headers: { Origin: "http://evil.example" } });
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: "healthy", service: "abstractgateway" });
    assert.match(health.res.headers.get("x-request-id") ?? "", /^[0-9a-f]{32}$/);

    const ping = await s.json("/api/gateway/ping");
    assert.equal(ping.status, 200);
    assert.equal(ping.body.ok, true);
    assert.match(ping.body.time, /\+00:00$/);

    const me = await s.json("/api/gateway/me");
    assert.equal(me.status, 200);
    assert.equal(me.body.principal.user_id, "local-admin");
    assert.deepEqual(me.body.principal.roles, ["admin", "user"]);
    assert.match(me.body.principal.token_fingerprint, /^[0-9a-f]{12}$/);
    assert.equal(me.body.principal.source, "legacy-token");
    assert.equal(me.body.auth.mode, "legacy-token");

    // Scenario 4: request id echo.
    const echoed = await s.json("/api/gateway/runs", { headers: { "X-Request-Id": "abc" } });
    assert.equal(echoed.res.headers.get("x-request-id"), "abc");

    const root = await s.fetch("/", { auth: false, redirect: "manual" });
    await root.body?.cancel();
    assert.equal(root.status, 307);
    assert.equal(root.headers.get("location"), "/docs");

    const missing = await s.json("/api/gateway/nope");
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { detail: "Not Found" });
    assert.ok(missing.res.headers.get("x-request-id"));
  } finally {
    await s.close();
  }
});

Deno.test("openapi.json documents every route with its auth; /docs is offline HTML (scenario 10)", async () => {
  const s = await startServer();
  try {
    const { status, body: doc } = await s.json("/openapi.json", { auth: false });
    assert.equal(status, 200);
    assert.equal(doc.info.title, "AbstractGateway");
    assert.equal(doc.info.version, VERSION, "the gateway's own version (deno.json)");
    assert.deepEqual(doc.components.securitySchemes.gatewayBearerAuth, { type: "http", scheme: "bearer" });
    let gatewayOps = 0;
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Operation>>)) {
      for (const [method, op] of Object.entries(item)) {
        const secured = (op.security ?? []).some((r) => "gatewayBearerAuth" in r);
        if (path.startsWith("/api/gateway")) {
          gatewayOps++;
          assert.ok(secured, `${method} ${path} must list gatewayBearerAuth`);
          assert.ok(op.summary, `${method} ${path} needs a summary`);
        } else {
          assert.ok(!secured, `${method} ${path} must be open`);
        }
      }
    }
    for (
      const path of [
        "/api/health",
        "/api/gateway/runs/start",
        "/api/gateway/runs/schedule",
        "/api/gateway/runs/{run_id}/ledger/stream",
        "/api/gateway/commands/{command_id}",
        "/api/gateway/bundles/upload",
        "/api/gateway/workflows/{workflow_id}/flow",
        "/api/gateway/runs/{run_id}/artifacts/{artifact_id}/content",
      ]
    ) assert.ok(doc.paths[path], `${path} documented`);
    assert.ok(gatewayOps >= 28, `only ${gatewayOps} gateway operations documented`);

    const docs = await s.fetch("/docs", { auth: false });
    assert.equal(docs.status, 200);
    assert.match(docs.headers.get("content-type") ?? "", /^text\/html/);
    const html = await docs.text();
    assert.match(html, /fetch\("\/openapi\.json"\)/);
    // A person can paste a token and try a call; schemas are rendered from the document itself.
    assert.match(html, /<input id="token"[^>]*type="password"/);
    assert.match(html, /Authorization.*Bearer/);
    assert.match(html, /function shape\(/);
    assert.match(html, /Try it/);
    assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href="http/i, "no external assets");
    assert.match(docs.headers.get("content-security-policy") ?? "", /default-src 'none'/);
    const redoc = await s.fetch("/redoc", { auth: false });
    assert.equal(redoc.status, 200);
    await redoc.body?.cancel();
  } finally {
    await s.close();
  }
});

Deno.test("error shapes: wrong types, missing fields, bad query values", async () => {
  const s = await startServer();
  try {
    // malformed and empty bodies: tests/http/upstream_contract_test.ts
    const wrongType = await s.json("/api/gateway/runs/start", postJson({ bundle_id: 5 }));
    assert.equal(wrongType.status, 422);
    assert.deepEqual(wrongType.body.detail[0].loc, ["body", "bundle_id"]);
    assert.equal(typeof wrongType.body.detail[0].msg, "string");

    const notObject = await s.json("/api/gateway/runs/start", postJson([1, 2]));
    assert.equal(notObject.status, 422);

    const missing = await s.json("/api/gateway/commands", postJson({ run_id: "r", type: "pause" }));
    assert.equal(missing.status, 422);
    assert.deepEqual(missing.body.detail[0], {
      type: "missing",
      loc: ["body", "command_id"],
      msg: "Field required",
      input: { run_id: "r", type: "pause" },
    });

    const badLimit = await s.json("/api/gateway/runs?limit=0");
    assert.equal(badLimit.status, 422);
    assert.deepEqual(badLimit.body.detail[0].loc, ["query", "limit"]);
    const badBool = await s.json("/api/gateway/bundles?all_versions=maybe");
    assert.equal(badBool.status, 422);
    const badStatus = await s.json("/api/gateway/runs?status=sleeping");
    assert.equal(badStatus.status, 400);
    assert.equal(
      badStatus.body.detail,
      "Invalid status (expected: running|waiting|completed|failed|cancelled)",
    );

    const textBody = await s.json("/api/gateway/commands", {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "hello",
    });
    assert.equal(textBody.status, 415);
    assert.equal(typeof textBody.body.detail, "string");
  } finally {
    await s.close();
  }
});

Deno.test("discovery capabilities and workspace policy", async () => {
  const s = await startServer();
  try {
    const { status, body } = await s.json("/api/gateway/discovery/capabilities");
    assert.equal(status, 200);
    const contracts = body.capabilities.contracts;
    assert.equal(contracts.version, 1);
    assert.equal(contracts.common.runs.start.endpoint, "/api/gateway/runs/start");
    assert.deepEqual(contracts.common.runs.start.thinking_control.values, [
      "off",
      "low",
      "medium",
      "high",
      "xhigh",
    ]);
    assert.deepEqual(contracts.common.runs.commands.types, [
      "pause",
      "resume",
      "cancel",
      "emit_event",
      "update_schedule",
      "compact_memory",
    ]);
    assert.equal(contracts.common.ledger.stream.transport, "sse");
    assert.equal(contracts.flow_editor.bundles.upload.endpoint, "/api/gateway/bundles/upload");
    const policy = await s.json("/api/gateway/workspace/policy");
    assert.equal(policy.status, 200);
    assert.equal(policy.body.policy.max_attachment_bytes, 26214400);
  } finally {
    await s.close();
  }
});
