/**
 * The gateway under benchmark as a separate process, as in production: `main.ts serve` (or
 * `serve --no-runner`, and `main.ts runner` beside it) of a source tree — this one, or a baseline
 * tree such as `git archive main | tar -x -C /tmp/base` — started with the release permission flags
 * from a home dir holding `data/` and `bundles/demo@0.0.1.flow` (start → end). The bench process is
 * only the load generator; each process's CPU is read from /proc.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { permissionFlags } from "../release/flags.ts";
import { type Launch, spawnGateway, startServe } from "../tests/helpers/gateway_process.ts";
import { startEndFlow, writeBundle } from "../tests/helpers/bundles.ts";
import { REPO_ROOT } from "../tests/helpers/paths.ts";
import { processCpuS } from "./proc_cpu.ts";
import { TOKEN } from "./bench_server.ts";

/** User + system CPU of process `pid` so far, in ms (0 once it is gone). */
export const cpuMsOf = (pid: number | "self") => processCpuS(pid) * 1000;

/**
 * `main.ts` of `tree` under this tree's `gateway` permission flags, run from `cwd` (so `./data` and
 * `./bundles` are the home's), with the tree's own deno.json for its imports.
 */
export function treeLaunch(tree: string, cwd: string): Launch {
  return {
    cwd,
    flags: ["--config", join(tree, "deno.json"), ...permissionFlags()],
    main: join(tree, "main.ts"),
  };
}

/**
 * The stores of `tree`'s own code (a baseline tree may predate this one's store API), opened on
 * `dataDir` while no server runs there: for seeding what the API cannot write (history, ledgers).
 */
export async function openTreeStores(tree: string, store: string, dataDir: string) {
  const { openStores } = await import(pathToFileURL(join(tree, "src/store/open.ts")).href);
  return await openStores({ backend: store, dataDir });
}

/** A fresh home dir: `bundles/` with the demo bundle; `data/` is made by the gateway. Remove it when done. */
export async function benchHome(prefix: string): Promise<string> {
  const home = await Deno.makeTempDir({ prefix });
  await writeBundle(join(home, "bundles"), {
    bundleId: "demo",
    version: "0.0.1",
    flows: { root: startEndFlow("root") },
  });
  return home;
}

/** The env of every process of one bench home: limits raised past the load; audit log and the rest as shipped. */
export function benchEnv(store: string): Record<string, string> {
  return {
    ABSTRACTGATEWAY_DATA_DIR: "./data",
    ABSTRACTGATEWAY_FLOWS_DIR: "./bundles",
    ABSTRACTGATEWAY_STORE_BACKEND: store,
    ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN,
    ABSTRACTGATEWAY_MAX_CONCURRENCY: "4096",
    ABSTRACTGATEWAY_MAX_SSE: "4096",
    ABSTRACTGATEWAY_MAX_SSE_PER_TOKEN: "4096",
    ABSTRACTGATEWAY_MAX_INBOX_DEPTH: "0",
    ABSTRACTGATEWAY_LOG_LEVEL: "error",
  };
}

export interface BenchProcess {
  pid: number;
  /** This process's CPU so far (ms). */
  cpuMs(): number;
  stop(): Promise<void>;
}

export interface BenchServe extends BenchProcess {
  url: string;
}

/** `serve` (args e.g. `["--no-runner"]`) of `tree` (default: this one) on `home`, listening on 127.0.0.1. */
export async function startBenchServe(
  home: string,
  store: string,
  tree = REPO_ROOT,
  args: string[] = [],
): Promise<BenchServe> {
  const gw = await startServe(benchEnv(store), args, 60_000, treeLaunch(tree, home));
  const pid = gw.child.pid;
  return { pid, url: gw.url, cpuMs: () => cpuMsOf(pid), stop: async () => void await gw.stop() };
}

export interface BenchRunner extends BenchProcess {
  /** SIGSTOP: the process keeps its state (booted, lock held) but does nothing until resume(). */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
}

/**
 * `runner` of `tree` on `home`, once it runs (its metrics listener is up, after its loop started).
 * Readiness of a `serve --no-runner` on the same home (its runner heartbeat) says when it works.
 */
export async function startBenchRunner(home: string, store: string, tree = REPO_ROOT): Promise<BenchRunner> {
  const child = spawnGateway(["runner", "--metrics-port", "0"], benchEnv(store), treeLaunch(tree, home));
  const stderr = new Response(child.stderr).text();
  const signal = (signo: Deno.Signal) => {
    try {
      child.kill(signo);
    } catch { /* already gone */ }
  };
  const stop = async () => {
    signal("SIGTERM");
    signal("SIGCONT"); // a paused runner handles the SIGTERM once continued
    await child.status;
    await stderr;
  };
  let out = "";
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    if ((out += chunk).includes("runner metrics on")) break;
  }
  if (!out.includes("runner metrics on")) {
    await stop();
    throw new Error(`runner exited before running: ${await stderr}`);
  }
  return {
    pid: child.pid,
    cpuMs: () => cpuMsOf(child.pid),
    stop,
    pause: () => signal("SIGSTOP"),
    resume: () => signal("SIGCONT"),
  };
}
