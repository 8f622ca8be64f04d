/** `gateway serve`: the HTTP API, with the runner in-process unless `--no-runner`. */
import { loadConfig, processEnv } from "../config/config.ts";
import { checkBind } from "../security/preflight.ts";
import { prepareDataPaths } from "./start_paths.ts";
import { CONSOLE_BASE } from "../console/paths.ts";
import { ensureServeAuth } from "../security/startup.ts";
import { logger, setLogFormat, setLogLevel } from "../util/log.ts";
import { parseFlags, settingFlags, settingFlagsHelp } from "./args.ts";
import { untilSignal } from "./signals.ts";
import { listen, type Listening } from "./listen.ts";

export const SERVE_HELP = [
  "Usage: gateway serve [flags]",
  "",
  "Serves the HTTP API (/api/gateway/*, SSE ledger streams, /openapi.json, /docs) and, unless",
  "--no-runner is given, runs the runner in the same process.",
  "",
  "Without a configured token, a loopback bind generates one (stored 0600 under <data-dir>/auth/)",
  "and prints it once; a non-loopback bind refuses to start.",
  "",
  "The binary may read and write only ./data and ./bundles of the directory it starts in; a configured",
  "path or bind address it may not use is refused at start (exit 2) with the fix. An empty start",
  "directory gets ./bundles seeded with the default bundles.",
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
  setLogFormat(config.logFormat);
  const log = logger("serve");
  await checkBind(config.host, config.port);
  await prepareDataPaths(config, log);

  // Under systemd (or any log collector) stdout is no terminal: the token must not land in the journal.
  const auth = await ensureServeAuth(config, {
    print: (line) => console.log(line),
    showToken: Deno.stdout.isTerminal(),
  });
  config.authTokens = auth.tokens;

  // Loaded only after the checks, so a refusal comes before the whole program is loaded.
  const [{ openGateway }, { createGatewayServer }] = await Promise.all([
    import("../gateway.ts"),
    import("../http/server.ts"),
  ]);
  const gw = await openGateway(config, { runner: config.runner });
  const http = createGatewayServer(gw);
  let listening: Listening;
  try {
    listening = await listen(
      config,
      config.port,
      http.fetch,
      "ABSTRACTGATEWAY_PORT (--port)",
      gw.metrics.connections,
    );
  } catch (err) {
    await http.close();
    await gw.close();
    throw err;
  }
  const { server, url } = listening;
  console.log(`gateway listening on ${url} (runner: ${config.runner ? "in-process" : "off"})`);
  console.log(`console: ${url}${CONSOLE_BASE} (sign in with the gateway token)`);
  log.info("listening", {
    url,
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
