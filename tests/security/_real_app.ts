/**
 * The real gateway app (openGateway + createGatewayServer) behind the real security layer (CORS, middlewares,
 * audit route), served on 127.0.0.1:0, with the `demo@0.0.1` bundle (start → ask_user → end).
 */
import { join } from "node:path";
import { type Config, loadConfig } from "../../src/config/config.ts";
import { type Gateway, openGateway } from "../../src/gateway.ts";
import { createGatewayServer } from "../../src/http/server.ts";
import type { AuditLog } from "../../src/security/audit.ts";
import { setLogLevel } from "../../src/util/log.ts";
import { askUserFlow, writeBundle } from "../helpers/bundles.ts";
import { sandboxTempDir } from "../helpers/paths.ts";

export interface RealApp {
  base: string;
  root: string;
  config: Config;
  gw: Gateway;
  audit: AuditLog;
  close(): Promise<void>;
}

export async function startRealApp(env: Record<string, string>, runner: boolean): Promise<RealApp> {
  setLogLevel("none");
  const root = await sandboxTempDir("security-app-");
  const flowsDir = join(root, "flows");
  await writeBundle(flowsDir, { bundleId: "demo", version: "0.0.1", flows: { root: askUserFlow("root") } });
  const config = loadConfig({
    ABSTRACTGATEWAY_DATA_DIR: join(root, "data"),
    ABSTRACTGATEWAY_FLOWS_DIR: flowsDir,
    ABSTRACTGATEWAY_POLL_S: "0.05",
    ABSTRACTGATEWAY_LOG_LEVEL: "none",
    ...env,
  });
  const gw = await openGateway(config, { runner });
  const http = createGatewayServer(gw);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, http.fetch);
  return {
    base: `http://127.0.0.1:${server.addr.port}`,
    root,
    config,
    gw,
    audit: http.audit,
    async close() {
      http.endStreams();
      await server.shutdown();
      await http.close();
      await gw.close();
      setLogLevel("info");
      await Deno.remove(root, { recursive: true });
    },
  };
}
