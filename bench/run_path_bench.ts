/**
 * The run hot path with the runner on (issue 16 figures), each printed beside its target: completed
 * runs/s at 16 clients, start→terminal p50 with 0 and 1k runs stored, start request p50, CPU per run.
 * The command path (append, then apply) is bench/command_path_bench.ts.
 *
 *   deno run -A bench/run_path_bench.ts [--store file|sqlite] [--seconds 3] [--tick-workers N]
 *
 * `--tick-workers` overrides the runner's concurrent ticks (default: the setting's default).
 *
 * Server and runner run in this process; clients are fetch calls over 127.0.0.1. CPU figures are
 * this process's user+system time divided by the work done, so they include the clients' share
 * (an upper bound on the server's cost).
 */
import { parseArgs } from "node:util";
import process from "node:process";
import type { Gateway } from "../src/gateway.ts";
import type { RunState } from "../src/runtime/types.ts";
import { ledgerTopic } from "../src/store/wake.ts";
import { openBenchServer, percentile, post } from "./bench_server.ts";
const TERMINAL = new Set(["completed", "failed", "cancelled"]);

interface Row {
  measure: string;
  value: string;
  target: string;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Resolves run ids once they reach a terminal state. Only runs whose ledger grew are re-read on a
 * `runs` wake-up (the terminal records precede the terminal save), so the waiter's own cost stays
 * small next to the server's.
 */
class TerminalWaiter {
  #pending = new Map<string, { resolve: () => void; off: () => void }>();
  /** Runs whose ledger grew: re-read on every check until terminal. */
  #grown = new Set<string>();
  /** Runs to read once on the next check (just started). */
  #fresh = new Set<string>();
  #checking = false;
  #again = false;
  readonly #off: () => void;
  /** Safety net: a wake-up a backend did not deliver costs latency, never a hang. */
  readonly #sweep = setInterval(() => {
    for (const id of this.#pending.keys()) this.#fresh.add(id);
    void this.#check();
  }, 250);

  constructor(private readonly gw: Gateway) {
    this.#off = gw.stores.wake.subscribe("runs", () => void this.#check());
  }

  wait(runId: string): Promise<void> {
    const done = Promise.withResolvers<void>();
    const off = this.gw.stores.wake.subscribe(ledgerTopic(runId), () => this.#grown.add(runId));
    this.#pending.set(runId, { resolve: done.resolve, off });
    this.#fresh.add(runId);
    void this.#check();
    return done.promise;
  }

  async #check(): Promise<void> {
    if (this.#checking) {
      this.#again = true;
      return;
    }
    this.#checking = true;
    do {
      this.#again = false;
      const ids = new Set([...this.#fresh, ...this.#grown]);
      this.#fresh.clear();
      for (const id of ids) {
        const run = await this.gw.stores.runs.load(id);
        const waiting = this.#pending.get(id);
        if (run && waiting && TERMINAL.has(run.status)) {
          this.#pending.delete(id);
          this.#grown.delete(id);
          waiting.off();
          waiting.resolve();
        }
      }
    } while (this.#again);
    this.#checking = false;
  }

  close(): void {
    clearInterval(this.#sweep);
    this.#off();
    for (const { off } of this.#pending.values()) off();
  }
}

/** Starts runs on `clients` lanes for `seconds`; each lane waits for its run to end before the next. */
async function runLoop(base: string, waiter: TerminalWaiter, clients: number, seconds: number) {
  const latencies: number[] = [];
  const starts: number[] = [];
  const end = performance.now() + seconds * 1000;
  const cpu0 = cpuMs();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < end) {
      const started = performance.now();
      const { run_id } = await post(base, "/api/gateway/runs/start", { bundle_id: "demo" });
      starts.push(performance.now() - started);
      await waiter.wait(String(run_id));
      latencies.push(performance.now() - started);
    }
  }));
  const elapsedS = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  starts.sort((a, b) => a - b);
  return {
    startP50: percentile(starts, 50),
    perS: latencies.length / elapsedS,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuPerRun: (cpuMs() - cpu0) / latencies.length,
    n: latencies.length,
  };
}

/** Stores `count` completed copies of `template` (history the hot paths must not scan). */
async function seedCompleted(gw: Gateway, template: RunState, count: number): Promise<void> {
  for (let i = 0; i < count; i += 64) {
    await Promise.all(Array.from({ length: Math.min(64, count - i) }, () => {
      const run_id = crypto.randomUUID();
      return gw.stores.runs.save({ ...structuredClone(template), run_id, session_id: run_id });
    }));
  }
}

export async function main(args: string[] = Deno.args): Promise<Row[]> {
  const { values } = parseArgs({
    args,
    options: {
      store: { type: "string", default: "file" },
      seconds: { type: "string", default: "3" },
      "tick-workers": { type: "string" },
    },
  });
  const seconds = Number(values.seconds);
  const workers = values["tick-workers"];
  const settings: Record<string, string> = workers ? { ABSTRACTGATEWAY_TICK_WORKERS: workers } : {};
  const { gw, base, close } = await openBenchServer(values.store, true, "bench-runs-", settings);
  const waiter = new TerminalWaiter(gw);
  const rows: Row[] = [];
  try {
    const first = String((await post(base, "/api/gateway/runs/start", { bundle_id: "demo" })).run_id);
    await waiter.wait(first);
    const cold = await runLoop(base, waiter, 1, Math.max(1, seconds / 2));
    rows.push({
      measure: "start→terminal p50, 1 client, 0 runs stored",
      value: `${cold.p50.toFixed(1)} ms`,
      target: "flat in runs stored",
    });
    await seedCompleted(gw, (await gw.stores.runs.load(first))!, 1000);
    const warm = await runLoop(base, waiter, 1, Math.max(1, seconds / 2));
    rows.push({
      measure: "start→terminal p50, 1 client, 1k runs stored",
      value: `${warm.p50.toFixed(1)} ms`,
      target: "= the 0-runs figure",
    });
    const many = await runLoop(base, waiter, 16, seconds);
    rows.push({
      measure: "completed runs/s, 16 clients",
      value: many.perS.toFixed(0),
      target: "≥ 1000 (SQLite)",
    });
    rows.push({
      measure: "start→terminal p50 / p99, 16 clients",
      value: `${many.p50.toFixed(0)} / ${many.p99.toFixed(0)} ms`,
      target: "-",
    });
    rows.push({
      measure: "start request p50, 16 clients",
      value: `${many.startP50.toFixed(0)} ms`,
      target: "-",
    });
    rows.push({
      measure: "CPU per run (server + clients)",
      value: `${many.cpuPerRun.toFixed(2)} ms`,
      target: "≤ 1 ms",
    });
  } finally {
    waiter.close();
    await close();
  }
  return report(values.store, rows);
}

function report(store: string, rows: Row[]): Row[] {
  const w = [Math.max(...rows.map((r) => r.measure.length)), Math.max(...rows.map((r) => r.value.length))];
  console.log(`Run path (store: ${store}, runner in-process, loopback)`);
  for (const r of rows) {
    console.log(`${r.measure.padEnd(w[0])}  ${r.value.padStart(w[1])}  target ${r.target}`);
  }
  return rows;
}

if (import.meta.main) await main();
