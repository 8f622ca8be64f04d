// deno-lint-ignore-file no-explicit-any
/**
 * A real gateway on 127.0.0.1 for HTTP tests: temp data dir, a flows dir holding the given
 * bundles, `openGateway` with the in-process runner, the app served by `Deno.serve` on port 0.
 */
import { join } from "node:path";
import { type Config, loadConfig } from "../../src/config/config.ts";
import { type Gateway, openGateway } from "../../src/gateway.ts";
import { createGatewayServer } from "../../src/http/server.ts";
import { setLogLevel } from "../../src/util/log.ts";
import { type BundleSpec, startEndFlow, writeBundle } from "../helpers/bundles.ts";
import { sandboxTempDir } from "../helpers/paths.ts";

export const TOKEN = "t";

export interface TestServer {
  base: string;
  gw: Gateway;
  dataDir: string;
  flowsDir: string;
  /** fetch relative to the server, with the bearer token unless `auth: false`. */
  fetch(path: string, init?: RequestInit & { auth?: boolean }): Promise<Response>;
  /** fetch + parse JSON; always consumes the body. */
  json(
    path: string,
    init?: RequestInit & { auth?: boolean },
  ): Promise<{ status: number; body: any; res: Response }>;
  /**
   * Stops the server and the gateway, waits `downMs`, then opens both again on the same directories
   * (with or without the runner: `withRunner`, default as started).
   */
  restart(downMs?: number, withRunner?: boolean): Promise<void>;
  close(): Promise<void>;
}

export const DEMO: BundleSpec = { bundleId: "demo", version: "0.0.1", flows: { root: startEndFlow("root") } };

export interface ServerOptions {
  bundles?: BundleSpec[];
  env?: Record<string, string>;
  runner?: boolean;
  /** Mount the security middlewares (token `t`). Default true. */
  security?: boolean;
}

export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  setLogLevel("error");
  const root = await sandboxTempDir("http-");
  const dataDir = join(root, "data");
  const flowsDir = join(root, "flows");
  await Deno.mkdir(flowsDir, { recursive: true });
  for (const spec of options.bundles ?? [DEMO]) await writeBundle(flowsDir, spec);
  const secure = options.security ?? true;
  const config = loadConfig({
    ABSTRACTGATEWAY_DATA_DIR: dataDir,
    ABSTRACTGATEWAY_FLOWS_DIR: flowsDir,
    ABSTRACTGATEWAY_POLL_S: "0.05",
    ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN,
    ABSTRACTGATEWAY_SECURITY: secure ? "1" : "0",
    ABSTRACTGATEWAY_LOG_LEVEL: "error",
    ...options.env,
  });
  const runner = options.runner ?? true;
  let live = await listen(config, runner);
  const doFetch = (path: string, init: RequestInit & { auth?: boolean } = {}) => {
    const headers = new Headers(init.headers);
    if (init.auth !== false && !headers.has("authorization")) headers.set("Authorization", `Bearer ${TOKEN}`);
    return fetch(live.base + path, { ...init, headers });
  };
  const stop = async () => {
    live.http.endStreams();
    await live.server.shutdown();
    await live.http.close();
    await live.gw.close();
  };
  return {
    get base() {
      return live.base;
    },
    get gw() {
      return live.gw;
    },
    dataDir,
    flowsDir,
    fetch: doFetch,
    async json(path, init) {
      const res = await doFetch(path, init);
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body, res };
    },
    async restart(downMs = 0, withRunner = runner) {
      await stop();
      await new Promise((r) => setTimeout(r, downMs));
      live = await listen(config, withRunner);
    },
    async close() {
      await stop();
      await Deno.remove(root, { recursive: true });
    },
  };
}

async function listen(config: Config, runner: boolean) {
  const gw = await openGateway(config, { runner });
  const http = createGatewayServer(gw);
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: (addr) => listening.resolve(addr) },
    http.fetch,
  );
  const addr = await listening.promise;
  return { gw, http, server, base: `http://127.0.0.1:${addr.port}` };
}
export const postJson = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "Content-Type": "application/json", ...headers },
  body: JSON.stringify(body),
});

/** Polls GET /runs/{id} until `done(summary)` (≤ 10 s). */
export async function waitForRun(
  s: TestServer,
  runId: string,
  done: (run: any) => boolean = (r) => ["completed", "failed", "cancelled"].includes(r.status),
): Promise<any> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { status, body } = await s.json(`/api/gateway/runs/${runId}`);
    if (status === 200 && done(body)) return body;
    if (Date.now() > deadline) {
      throw new Error(`run ${runId} did not reach the state: ${JSON.stringify(body)}`);
    }
    await new Promise((r) => setTimeout(r, 30));
  }
}

export async function startRun(s: TestServer, body: Record<string, unknown>): Promise<string> {
  const { status, body: res } = await s.json("/api/gateway/runs/start", postJson(body));
  if (status !== 200) throw new Error(`start failed: ${status} ${JSON.stringify(res)}`);
  return res.run_id;
}
