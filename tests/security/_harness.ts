/**
 * A small app behind the real security middlewares, served over real HTTP on 127.0.0.1:0. Routes mimic
 * the gateway's classes: reads, a JSON write, an upload, a slow route, an SSE-like ledger stream, the
 * audit tail and an admin-only write family.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../src/http/env.ts";
import { onError, validationHook } from "../../src/http/errors.ts";
import { type Config, loadConfig } from "../../src/config/config.ts";
import { registerAuditRoutes } from "../../src/security/audit_routes.ts";
import { corsMiddleware } from "../../src/security/cors.ts";
import { type Security, type SecurityDeps, securityMiddleware } from "../../src/security/middleware.ts";

export const TOKEN = "tok-9f8e7d6c5b4a3928171605aZ";
export const AUTH = { authorization: `Bearer ${TOKEN}` };

export interface TestServer {
  url: string;
  config: Config;
  security: Security;
  dataDir: string;
  /** Streams opened by the stream route and not yet cancelled by the client. */
  openStreams(): number;
  /** Resolves when every slow handler started so far has finished. */
  slowHandlersDone(): Promise<void>;
  close(): Promise<void>;
}

const encoder = new TextEncoder();

export async function startTestServer(
  env: Record<string, string> = {},
  deps: SecurityDeps = {},
): Promise<TestServer> {
  const dataDir = await Deno.makeTempDir({ prefix: "gw-security-" });
  const config = loadConfig({ ABSTRACTGATEWAY_DATA_DIR: dataDir, ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN, ...env });
  const security = securityMiddleware(config, deps);
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.onError(onError);
  app.use("*", corsMiddleware(config));
  for (const m of security.middlewares) app.use("/api/gateway/*", m);

  let streams = 0;
  const slow: Promise<void>[] = [];
  app.get("/api/health", (c) => c.json({ status: "healthy" }));
  app.get("/api/gateway/runs", (c) => c.json({ items: [] }));
  app.get("/api/gateway/whoami", (c) => c.json({ principal: c.get("principal") ?? null }));
  app.post("/api/gateway/commands", async (c) => {
    const text = await c.req.text();
    return c.json({ accepted: true, bytes: encoder.encode(text).byteLength, echo: text.slice(0, 64) });
  });
  app.post(
    "/api/gateway/bundles/upload",
    async (c) => c.json({ bytes: (await c.req.arrayBuffer()).byteLength }),
  );
  app.post("/api/gateway/blocs/:id", (c) => c.json({ ok: true }));
  app.post("/api/gateway/explode", () => {
    throw new Error("boom");
  });
  app.get("/api/gateway/slow", async (c) => {
    const ms = Number(c.req.query("ms") ?? "300");
    const done = new Promise<void>((resolve) => setTimeout(resolve, ms));
    slow.push(done);
    await done;
    return c.json({ ok: true });
  });
  app.get("/api/gateway/runs/:id/ledger/stream", () => {
    streams++;
    let closed = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(": open\n\n"));
      },
      cancel() {
        if (!closed) streams--;
        closed = true;
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  registerAuditRoutes(app, security.audit);

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req, info) => app.fetch(req, { info }),
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    config,
    security,
    dataDir,
    openStreams: () => streams,
    slowHandlersDone: async () => {
      await Promise.all(slow);
    },
    async close() {
      await server.shutdown();
      await security.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

/** fetch + read the whole body (the sanitizers require every body consumed). */
export async function call(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; text: string; json: () => unknown }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

/** The audit log's lines, parsed (after pending writes are flushed). */
export async function auditLines(server: TestServer): Promise<Record<string, unknown>[]> {
  await server.security.audit.flush();
  try {
    const text = await Deno.readTextFile(server.security.audit.path);
    return text.split("\n").filter(Boolean).map((l) => JSON.parse(l));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

/** Polls `check` until true or the timeout passes. */
export async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
