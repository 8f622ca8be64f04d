/**
 * The run hot path with the runner on (issue 16), each figure beside its target: completed runs/s at
 * 16 clients, start→terminal p50/p99, start request p50, start→terminal p50 at 1 client with ≈0 and
 * 1k runs stored, and the server's CPU per run.
 *
 *   deno run -A bench/run_path_bench.ts [--store file,sqlite] [--seconds 3] [--rounds 1] [--baseline <tree>]
 *
 * `main.ts serve` runs in its own process (bench/serve_process.ts); this process is the load generator.
 * Each client lane starts a run (POST /runs/start), then follows it as a rendering client does: it
 * opens the run's ledger stream from cursor 0 and reads until the server ends it with `event: done`
 * (terminal, every record delivered). That is one request more per run than polling the run once,
 * but it is what a UI does anyway, it has no polling delay, and the server's cost of it is real.
 * Server CPU per run is the server process's user+system time (/proc) over the 16-client phase
 * divided by the runs completed; the load generator's own CPU is printed apart.
 *
 * Phases: 1 client, then 16, on an empty store; then 1 client on a second store into which 1,000
 * copies of a completed run of the first (record and ledger) were written, before its server started,
 * through the tree's own store code (as fast as a file copy, unlike starting them over HTTP).
 * `--baseline <tree>` measures that source tree too, interleaved with this one round by round.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AUTH, percentile, post } from "./bench_server.ts";
import { COMPARE_OPTIONS, compareTrees, type Comparison, type Tree } from "./compare.ts";
import { benchHome, type BenchServe, cpuMsOf, openTreeStores, startBenchServe } from "./serve_process.ts";

/** Completed runs stored before the second 1-client phase. */
const HISTORY = 1000;

/** Starts a run and reads its ledger stream to `done`; returns the run id and both timings (ms). */
async function runToTerminal(url: string) {
  const t0 = performance.now();
  const runId = String((await post(url, "/api/gateway/runs/start", { bundle_id: "demo" })).run_id);
  const startMs = performance.now() - t0;
  const stream = await fetch(`${url}/api/gateway/runs/${runId}/ledger/stream?after=0&heartbeat_s=30`, {
    headers: AUTH,
  });
  const text = await stream.text();
  if (!text.includes("event: done")) throw new Error(`stream of ${runId} ended without done: ${text}`);
  return { runId, startMs, totalMs: performance.now() - t0 };
}

/** `clients` lanes for `seconds`, each starting its next run once the last is terminal. */
async function runLoop(server: BenchServe, clients: number, seconds: number) {
  const totals: number[] = [];
  const starts: number[] = [];
  let runId = "";
  const end = performance.now() + seconds * 1000;
  const cpu0 = { server: server.cpuMs(), self: cpuMsOf("self") };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < end) {
      const r = await runToTerminal(server.url);
      starts.push(r.startMs);
      totals.push(r.totalMs);
      runId = r.runId;
    }
  }));
  const elapsedS = (performance.now() - t0) / 1000;
  totals.sort((a, b) => a - b);
  starts.sort((a, b) => a - b);
  return {
    runId,
    perS: totals.length / elapsedS,
    p50: percentile(totals, 50),
    p99: percentile(totals, 99),
    startP50: percentile(starts, 50),
    serverCpuPerRun: (server.cpuMs() - cpu0.server) / totals.length,
    /** The server's CPU over the phase, in % of one core: well under 100 means it waited (disk, or other load). */
    serverBusy: (server.cpuMs() - cpu0.server) / (elapsedS * 10),
    selfCpuPerRun: (cpuMsOf("self") - cpu0.self) / totals.length,
  };
}

/**
 * Writes `count` completed copies of run `templateId` of data dir `from` (record and ledger) into
 * data dir `to`, with the tree's own store code.
 */
async function seedCompleted(tree: string, store: string, from: string, to: string, templateId: string) {
  const source = await openTreeStores(tree, store, from);
  const template = await source.runs.load(templateId);
  const { items } = await source.ledger.read(templateId, 0, 1000);
  await source.close();
  const stores = await openTreeStores(tree, store, to);
  try {
    for (let i = 0; i < HISTORY; i += 64) {
      await Promise.all(Array.from({ length: Math.min(64, HISTORY - i) }, async () => {
        const run_id = crypto.randomUUID();
        await stores.ledger.append(run_id, items.map((r: object) => ({ ...r, run_id })));
        await stores.runs.save({ ...structuredClone(template), run_id, session_id: run_id });
      }));
    }
  } finally {
    await stores.close();
  }
}

/** Runs `phases` against a `serve` of `tree` on `home`, after a short unmeasured warm-up (JIT, store files). */
async function withServer<T>(tree: Tree, store: string, home: string, phases: (s: BenchServe) => Promise<T>) {
  const server = await startBenchServe(home, store, tree.path);
  try {
    await runLoop(server, 1, 1);
    return await phases(server);
  } finally {
    await server.stop();
  }
}

/** One tree on one store: 1 client then 16 on an empty store; 1 client on a fresh store holding 1k runs. */
async function measure(tree: Tree, store: string, seconds: number, add: Comparison["add"]) {
  const empty = await benchHome("gw-run-bench-");
  const seeded = await benchHome("gw-run-bench-1k-");
  const figure = (measure: string, value: number, unit: string, target: string, digits = 0) =>
    add(tree, { measure, value, unit, target, digits });
  try {
    const [cold, many] = await withServer(tree, store, empty, async (server) => [
      await runLoop(server, 1, Math.max(1, seconds / 2)),
      await runLoop(server, 16, seconds),
    ]);
    await seedCompleted(tree.path, store, join(empty, "data"), join(seeded, "data"), cold.runId);
    const warm = await withServer(
      tree,
      store,
      seeded,
      (server) => runLoop(server, 1, Math.max(1, seconds / 2)),
    );
    figure("completed runs/s, 16 clients", many.perS, "", store === "sqlite" ? "≥ 1000" : "-");
    figure("start→terminal p50, 16 clients", many.p50, "ms", "-", 1);
    figure("start→terminal p99, 16 clients", many.p99, "ms", "-", 1);
    figure("start request p50, 16 clients", many.startP50, "ms", "-", 1);
    figure("start→terminal p50, 1 client, ≈0 runs stored", cold.p50, "ms", "-", 1);
    figure(`start→terminal p50, 1 client, ${HISTORY} runs stored`, warm.p50, "ms", "= the ≈0-runs figure", 1);
    figure("server CPU per run, 16 clients", many.serverCpuPerRun, "ms", "≤ 1 ms", 2);
    figure("server busy, 16 clients (% of one core)", many.serverBusy, "%", "-");
    figure("load generator CPU per run (not the server's)", many.selfCpuPerRun, "ms", "-", 2);
  } finally {
    await Deno.remove(empty, { recursive: true });
    await Deno.remove(seeded, { recursive: true });
  }
}

export async function main(args: string[] = Deno.args): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { ...COMPARE_OPTIONS, seconds: { type: "string", default: "3" } },
  });
  await compareTrees(
    values,
    (store) => `Run path, store ${store} (serve in its own process, runner in it)`,
    (tree, store, add) => measure(tree, store, Number(values.seconds), add),
  );
}

if (import.meta.main) await main();
