/** `gateway runner`: the worker alone, for split deployments (`serve --no-runner` on the same data dir). */
import { loadConfig, processEnv } from "../config/config.ts";
import { openGateway } from "../gateway.ts";
import { errorText, logger, setLogLevel } from "../util/log.ts";
import { parseFlags, settingFlags, settingFlagsHelp } from "./args.ts";
import { untilSignal } from "./signals.ts";

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
  const log = logger("runner");
  const stopping = untilSignal();
  const gw = await openGateway(config, { runner: true });
  const runner = gw.runner!;
  log.info("runner started", { data_dir: config.dataDir, store: config.storeBackend, lock: runner.lockPath });
  const ended = await Promise.race([
    stopping,
    runner.exited.then((err) => err ?? new Error("runner loop ended")),
  ]);
  if (ended instanceof Error) {
    log.error("runner failed", { error: errorText(ended) });
    await gw.close();
    return 1;
  }
  log.info("stopping", { signal: ended });
  await gw.close();
  return 0;
}
