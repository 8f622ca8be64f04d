/** A gateway on loopback for the HTTP benches: one demo bundle, security on, in this process. */
import { join } from "node:path";
import { loadConfig } from "../src/config/config.ts";
import { type Gateway, openGateway } from "../src/gateway.ts";
import { createGatewayServer } from "../src/http/server.ts";
import { setLogLevel } from "../src/util/log.ts";
import { startEndFlow, writeBundle } from "../tests/helpers/bundles.ts";

export const TOKEN = "bench-token";
export const AUTH = { Authorization: `Bearer ${TOKEN}` };
export const JSON_HEADERS = { ...AUTH, "Content-Type": "application/json" };

export const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;

async function call(base: string, path: string, init: RequestInit): Promise<Record<string, unknown>> {
  const res = await fetch(base + path, init);
  const json = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

export const post = (base: string, path: string, body: unknown) =>
  call(base, path, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(body) });

export const getJson = (base: string, path: string) => call(base, path, { headers: AUTH });

export interface BenchServer {
  gw: Gateway;
  base: string;
  /** The app's handler, to serve it on another listener too (bench/conn_front_bench.ts). */
  handler: Deno.ServeHandler<Deno.NetAddr>;
  close(): Promise<void>;
}

/**
 * Serves bundle `demo` (start → end) from a temp dir under ./data; close() removes everything.
 * `settings`: extra ABSTRACTGATEWAY_* values (e.g. the runner's tick workers).
 */
export async function openBenchServer(
  store: string,
  runner: boolean,
  prefix: string,
  settings: Record<string, string> = {},
): Promise<BenchServer> {
  setLogLevel("error");
  await Deno.mkdir("./data", { recursive: true });
  const root = await Deno.makeTempDir({ dir: "./data", prefix });
  const flowsDir = join(root, "flows");
  await writeBundle(flowsDir, { bundleId: "demo", version: "0.0.1", flows: { root: startEndFlow("root") } });
  const config = loadConfig({
    ABSTRACTGATEWAY_DATA_DIR: join(root, "data"),
    ABSTRACTGATEWAY_FLOWS_DIR: flowsDir,
    ABSTRACTGATEWAY_STORE_BACKEND: store,
    ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN,
    ABSTRACTGATEWAY_MAX_CONCURRENCY: "4096",
    ABSTRACTGATEWAY_MAX_SSE: "4096",
    ABSTRACTGATEWAY_MAX_SSE_PER_TOKEN: "4096",
    ABSTRACTGATEWAY_AUDIT_LOG: "0",
    ABSTRACTGATEWAY_LOG_LEVEL: "error",
    ...settings,
  });
  const gw = await openGateway(config, { runner });
  if (gw.runner) await gw.runner.ready;
  const http = createGatewayServer(gw);
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: (a) => listening.resolve(a) },
    http.fetch,
  );
  return {
    gw,
    base: `http://127.0.0.1:${(await listening.promise).port}`,
    handler: http.fetch,
    async close() {
      http.endStreams();
      await server.shutdown();
      await gw.close();
      await http.close();
      await Deno.remove(root, { recursive: true });
    },
  };
}
