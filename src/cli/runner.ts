/** `gateway runner`: the worker alone, for split deployments (`serve --no-runner` on the same data dir). */
import { join } from "node:path";
import { ConfigError, loadConfig, processEnv } from "../config/config.ts";
import { runnerHttpHandler } from "../metrics/runner_http.ts";
import { checkBind } from "../security/preflight.ts";
import { readTokenFile, TOKEN_FILE } from "../security/startup.ts";
import { listen, type Listening } from "./listen.ts";
import { errorText, logger, setLogFormat, setLogLevel } from "../util/log.ts";
import { parseFlags, settingFlags, settingFlagsHelp } from "./args.ts";
import { untilSignal } from "./signals.ts";
import { prepareDataPaths } from "./start_paths.ts";

export const RUNNER_HELP = [
  "Usage: gateway runner [flags]",
  "",
  "Applies inbox commands and advances runs of one data dir, without the HTTP API. Only one runner",
  "ticks a data dir at a time (lock file <data-dir>/gateway_runner.lock): a second one waits and takes",
  "over within a second when the first exits or dies. On the postgres backend any number of runners",
  "share the database, each run claimed with a lease (ABSTRACTGATEWAY_LEASE_TTL_S) that a dead runner",
  "loses when it expires. SIGINT/SIGTERM stop it cleanly (exit 0).",
  "",
  "Flags:",
  ...settingFlagsHelp("runner"),
].join("\n");

export async function runnerCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, settingFlags("runner"));
  if (values.help) {
    console.log(RUNNER_HELP);
    return 0;
  }
  const config = loadConfig(processEnv(), values);
  config.runner = true;
  setLogLevel(config.logLevel);
  setLogFormat(config.logFormat);
  const log = logger("runner");
  await prepareDataPaths(config, log);
  const stopping = untilSignal();
  const tokens = config.authTokens.length
    ? config.authTokens
    : [await readTokenFile(join(config.dataDir, TOKEN_FILE))].filter((t) => t !== null);
  if (config.runnerMetricsPort !== undefined && !config.metricsOpen && tokens.length === 0) {
    throw new ConfigError(
      "--metrics-port needs a token to protect /metrics (ABSTRACTGATEWAY_AUTH_TOKEN) or ABSTRACTGATEWAY_METRICS_OPEN=1",
    );
  }
  if (config.runnerMetricsPort !== undefined) {
    await checkBind(
      config.host,
      config.runnerMetricsPort,
      "ABSTRACTGATEWAY_RUNNER_METRICS_PORT (--metrics-port)",
    );
  }
  // Loaded only after the checks, so a refusal comes before the whole program is loaded.
  const { openGateway } = await import("../gateway.ts");
  const gw = await openGateway(config, { runner: true, serving: false });
  const runner = gw.runner!;
  log.info("runner started", { data_dir: config.dataDir, store: config.storeBackend, lock: runner.lockPath });
  let http: Listening | null = null;
  try {
    if (config.runnerMetricsPort !== undefined) {
      const handler = runnerHttpHandler(gw, tokens);
      http = await listen(
        config,
        config.runnerMetricsPort,
        handler,
        "--metrics-port",
        gw.metrics.connections,
      );
      console.log(`gateway runner metrics on ${http.url}/metrics`);
    }
    const ended = await Promise.race([
      stopping,
      runner.exited.then((err) => err ?? new Error("runner loop ended")),
    ]);
    if (ended instanceof Error) {
      log.error("runner failed", { error: errorText(ended) });
      return 1;
    }
    log.info("stopping", { signal: ended });
    return 0;
  } finally {
    await http?.server.shutdown();
    await gw.close();
  }
}
