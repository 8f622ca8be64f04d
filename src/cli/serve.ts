/** `gateway serve`: the HTTP API, with the runner in-process unless `--no-runner`. */
import { loadConfig, processEnv } from "../config/config.ts";
import { openGateway } from "../gateway.ts";
import { CONSOLE_BASE } from "../console/paths.ts";
import { createGatewayServer } from "../http/server.ts";
import { ensureServeAuth } from "../security/startup.ts";
import { logger, setLogLevel } from "../util/log.ts";
import { parseFlags, settingFlags, settingFlagsHelp } from "./args.ts";
import { untilSignal } from "./signals.ts";

export const SERVE_HELP = [
  "Usage: gateway serve [flags]",
  "",
  "Serves the HTTP API (/api/gateway/*, SSE ledger streams, /openapi.json, /docs) and, unless",
  "--no-runner is given, runs the runner in the same process.",
  "",
  "Without a configured token, a loopback bind generates one (stored 0600 under <data-dir>/auth/)",
  "and prints it once; a non-loopback bind refuses to start.",
  "",
  "Flags:",
  ...settingFlagsHelp("serve"),
  "  --no-runner        API only; run `gateway runner` on the same data dir (split deployment).",
].join("\n");

export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, { ...settingFlags("serve"), "no-runner": { type: "boolean" } });
  if (values.help) {
    console.log(SERVE_HELP);
    return 0;
  }
  const config = loadConfig(processEnv(), values);
  if (values["no-runner"]) config.runner = false;
  setLogLevel(config.logLevel);
  const log = logger("serve");

  const auth = await ensureServeAuth(config, { print: (line) => console.log(line) });
  config.authTokens = auth.tokens;

  const gw = await openGateway(config, { runner: config.runner });
  const http = createGatewayServer(gw);
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    { hostname: config.host, port: config.port, onListen: (addr) => listening.resolve(addr) },
    http.fetch,
  );
  const addr = await listening.promise;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  console.log(
    `gateway listening on http://${host}:${addr.port} (runner: ${config.runner ? "in-process" : "off"})`,
  );
  console.log(`console: http://${host}:${addr.port}${CONSOLE_BASE} (sign in with the gateway token)`);
  log.info("listening", {
    host: addr.hostname,
    port: addr.port,
    runner: config.runner,
    store: config.storeBackend,
  });

  // A crashed in-process runner makes the whole process exit 1, so a supervisor restarts it.
  const runnerCrash = gw.runner?.exited.then((err) => err ?? new Promise<never>(() => {}));
  const ended = await Promise.race([
    untilSignal(),
    server.finished.then(() => null),
    ...runnerCrash ? [runnerCrash] : [],
  ]);
  const crashed = ended instanceof Error;
  if (crashed) log.error("runner crashed; shutting down", { error: ended.message });
  else log.info("shutting down", { signal: ended });
  http.endStreams();
  await server.shutdown();
  await http.close();
  await gw.close();
  return crashed ? 1 : 0;
}
