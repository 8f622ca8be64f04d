import assert from "node:assert/strict";
import { Hono } from "hono";
import { createGatewayMetrics, runCounter } from "../../src/metrics/gateway_metrics.ts";
import { metricsMiddleware, metricsRoute } from "../../src/metrics/http.ts";
import { TokenVerifier } from "../../src/security/tokens.ts";
import { openStores } from "../../src/store/open.ts";
import { setLogLevel } from "../../src/util/log.ts";
import { makeRun } from "../store/fixtures.ts";
import { parseExposition, type Sample } from "./exposition.ts";

setLogLevel("error");

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

Deno.test("gateway metrics: hooks and run counts from a real store show up in the exposition", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "gw-metrics-" });
  const stores = await openStores({ backend: "sqlite", dataDir });
  try {
    await stores.runs.save(makeRun("r1", { status: "running" }));
    await stores.runs.save(makeRun("r2", { status: "running" }));
    await stores.runs.save(makeRun("r3", { status: "completed" }));
    const metrics = createGatewayMetrics({ countRuns: runCounter(stores.runs, { ttlMs: 0 }) });
    metrics.commandOutcome("applied");
    metrics.commandOutcome("applied");
    metrics.commandOutcome("failed");
    metrics.ledgerAppended(5);
    metrics.ledgerAppended(2);
    metrics.sseOpened();
    metrics.sseOpened();
    metrics.sseClosed();
    const { types, samples } = parseExposition(await metrics.render());
    assert.equal(types.get("gateway_runs"), "gauge");
    assert.equal(types.get("gateway_http_request_duration_seconds"), "histogram");
    assert.equal(value(samples, "gateway_runs", { status: "running" }), 2);
    assert.equal(value(samples, "gateway_runs", { status: "completed" }), 1);
    assert.equal(value(samples, "gateway_runs", { status: "waiting" }), 0);
    assert.equal(value(samples, "gateway_commands_total", { outcome: "applied" }), 2);
    assert.equal(value(samples, "gateway_commands_total", { outcome: "failed" }), 1);
    assert.equal(value(samples, "gateway_ledger_appends_total"), 7);
    assert.equal(value(samples, "gateway_sse_streams_open"), 1);

    await stores.runs.save(makeRun("r4", { status: "failed" }));
    const again = parseExposition(await metrics.render()).samples;
    assert.equal(value(again, "gateway_runs", { status: "failed" }), 1, "counted afresh on scrape");
  } finally {
    await stores.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("gateway metrics: run counts are capped and cached between scrapes", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "gw-metrics-" });
  const stores = await openStores({ backend: "file", dataDir });
  try {
    for (let i = 0; i < 7; i++) await stores.runs.save(makeRun(`w${i}`, { status: "waiting" }));
    const count = runCounter(stores.runs, { cap: 5, ttlMs: 60_000 });
    assert.equal((await count()).waiting, 5);
    await stores.runs.save(makeRun("x", { status: "cancelled" }));
    assert.equal((await count()).cancelled, 0, "cached within the ttl");
  } finally {
    await stores.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("metrics over real HTTP: route patterns as labels, /metrics protected unless open", async () => {
  const metrics = createGatewayMetrics({ latencyBuckets: [0.001, 1] });
  const verifier = new TokenVerifier(["s3cret-token-value"]);
  const app = new Hono();
  app.use("*", metricsMiddleware(metrics));
  app.route(
    "/",
    metricsRoute(metrics, {
      open: false,
      authCheck: async (c) => {
        const m = /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "");
        return m !== null && await verifier.verify(m[1]);
      },
    }),
  );
  const api = new Hono();
  api.get("/runs/:run_id", (c) => c.json({ run_id: c.req.param("run_id") }));
  api.get("/boom", () => {
    throw new Error("boom");
  });
  app.route("/api/gateway", api);
  app.onError((_err, c) => c.json({ detail: "Internal server error" }, 500));
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    for (
      const path of [
        "/api/gateway/runs/a",
        "/api/gateway/runs/b",
        "/api/gateway/boom",
        "/random/1",
        "/random/2",
      ]
    ) {
      await (await fetch(base + path)).body?.cancel();
    }
    const denied = await fetch(`${base}/metrics`);
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get("www-authenticate"), "Bearer");
    assert.deepEqual(await denied.json(), { detail: "Unauthorized" });
    const wrong = await fetch(`${base}/metrics`, { headers: { authorization: "Bearer nope" } });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();

    const res = await fetch(`${base}/metrics`, { headers: { authorization: "Bearer s3cret-token-value" } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const { samples } = parseExposition(await res.text());
    const total = (route: string, status: string) =>
      value(samples, "gateway_http_requests_total", { method: "GET", route, status });
    assert.equal(total("/api/gateway/runs/:run_id", "200"), 2);
    assert.equal(total("/api/gateway/boom", "500"), 1);
    assert.equal(total("unmatched", "404"), 2);
    assert.equal(total("/metrics", "401"), 2);
    assert.equal(
      samples.some((s) => s.labels.route?.startsWith("/random")),
      false,
      "raw paths never become labels",
    );
    const count = value(samples, "gateway_http_request_duration_seconds_count", {
      route: "/api/gateway/runs/:run_id",
    });
    const inf = value(samples, "gateway_http_request_duration_seconds_bucket", {
      route: "/api/gateway/runs/:run_id",
      le: "+Inf",
    });
    assert.equal(count, 2);
    assert.equal(inf, 2);
  } finally {
    await server.shutdown();
  }
});

Deno.test("metrics route: open mode needs no token", async () => {
  const metrics = createGatewayMetrics();
  const app = metricsRoute(metrics, { open: true });
  const res = await app.request("/metrics");
  assert.equal(res.status, 200);
  parseExposition(await res.text());
});
