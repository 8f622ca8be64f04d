/**
 * PostgreSQL figures on a throwaway local cluster (skipped when PostgreSQL is not installed):
 * runs completed per second and commands applied per second with 1, 2 and 4 runner processes (as
 * separate nodes, though here they share this machine's cores with PostgreSQL) with the CPU each kind
 * of process spent, command appends per second, ledger replay pages per second, the cross-node wake-up
 * latency (append on node B → LISTEN/NOTIFY wake-up on node A) and the SSE append→client latency
 * through a real API process. Each is printed beside the single-node SQLite figure for context.
 */
import { openStores } from "../src/store/open.ts";
import type { Stores } from "../src/store/types.ts";
import { PG_SKIP, PgCluster } from "../tests/helpers/postgres.ts";
import { openHarness } from "../tests/runner/harness.ts";
import { type LineProcess, spawnRunner } from "../tests/runner/processes.ts";
import { sandboxTempDir } from "../tests/helpers/paths.ts";
import { waitUntilFlow, writeBundle } from "../tests/helpers/bundles.ts";
import { join } from "node:path";
import postgres from "postgres";
import { startServe } from "../tests/helpers/gateway_process.ts";
import { describeCpu, sampleCpu } from "./proc_cpu.ts";

const record = (runId: string, i: number) =>
  ({
    run_id: runId,
    step_id: `s${i}`,
    node_id: "n",
    status: "completed",
    effect: null,
    result: { i },
    error: null,
    started_at: new Date().toISOString(),
    ended_at: new Date().toISOString(),
  }) as never;

const perSecond = (n: number, ms: number) => (n / (ms / 1000)).toFixed(0);

async function commandsPerSecond(stores: Stores, clients: number, each: number): Promise<string> {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    for (let i = 0; i < each; i++) {
      await stores.commands.append({
        command_id: `c${c}-${i}-${crypto.randomUUID()}`,
        run_id: `r${c}`,
        type: "pause",
        payload: {},
        ts: new Date().toISOString(),
        client_id: null,
      });
    }
  }));
  return perSecond(clients * each, performance.now() - t0);
}

async function replayPagesPerSecond(stores: Stores): Promise<string> {
  const runId = "replay";
  for (let b = 0; b < 20; b++) {
    await stores.ledger.append(runId, Array.from({ length: 100 }, (_, i) => record(runId, b * 100 + i)));
  }
  const t0 = performance.now();
  let pages = 0;
  for (let round = 0; round < 5; round++) {
    for (let after = 0; after < 2000; after += 100, pages++) await stores.ledger.read(runId, after, 100);
  }
  return perSecond(pages, performance.now() - t0);
}

async function crossNodeWakeMs(a: Stores, b: Stores, samples: number): Promise<string> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const runId = `wake-${i}`;
    const woken = Promise.withResolvers<number>();
    const off = a.wake.subscribe(`ledger:${runId}`, () => woken.resolve(performance.now()));
    const t0 = performance.now();
    await b.ledger.append(runId, [record(runId, 0)]);
    times.push((await woken.promise) - t0);
    off();
  }
  times.sort((x, y) => x - y);
  return `p50 ${times[Math.floor(samples / 2)].toFixed(1)} ms, p95 ${
    times[Math.floor(samples * 0.95)].toFixed(1)
  } ms`;
}

/** Polls `done` every 100 ms; resolves how many times it asked (each ask is one database transaction). */
async function until(done: () => Promise<boolean>, timeoutMs = 120_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (let asked = 1;; asked++) {
    if (await done()) return asked;
    if (Date.now() > deadline) throw new Error(`Cannot finish the bench: not done within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Transactions committed in database `db` so far (what the runners cost PostgreSQL, load-independent). */
async function committed(cluster: PgCluster, db: string): Promise<number> {
  await new Promise((r) => setTimeout(r, 1_200)); // backends flush their statistics about once a second
  const sql = postgres(cluster.url(), { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql`SELECT xact_commit FROM pg_stat_database WHERE datname = ${db}`;
    return Number(row.xact_commit);
  } finally {
    await sql.end();
  }
}

/** A data dir with a flows dir holding `bench@0.0.1:root`, a flow that waits `waitS` seconds. */
async function benchDir(prefix: string, waitS: number): Promise<{ dir: string; flows: string }> {
  const dir = await sandboxTempDir(prefix);
  const flows = join(dir, "flows");
  await writeBundle(flows, {
    bundleId: "bench",
    version: "0.0.1",
    flows: { root: waitUntilFlow("root", waitS) },
  });
  return { dir, flows };
}

/** Where a scale-out measurement runs: a database of the throwaway cluster, or SQLite in the data dir. */
type Backend = { kind: "postgres"; cluster: PgCluster } | { kind: "sqlite" };

/**
 * Runs completed/s and commands applied/s with `n` runners. Each runner is a real `gateway runner`
 * process (as separate nodes would be); runs and commands are written from this process, as an API
 * node would. Also reports what the runs cost in CPU per process kind (what bounds the curve) and,
 * on PostgreSQL, database transactions per run or command.
 */
async function scaleOut(backend: Backend, n: number, runs: number, commands: number): Promise<string> {
  const name = `scale_${n}`;
  const { dir, flows } = await benchDir("pg-bench-", 0);
  const env: Record<string, string> = backend.kind === "postgres"
    ? {
      ABSTRACTGATEWAY_DATABASE_URL: await backend.cluster.createDatabase(name),
      ABSTRACTGATEWAY_STORE_BACKEND: "postgres",
    }
    : { ABSTRACTGATEWAY_STORE_BACKEND: "sqlite" };
  const api = await openHarness(backend.kind, { dir, env, startRunner: false });
  const runners: LineProcess[] = [];
  try {
    for (let i = 0; i < n; i++) {
      runners.push(spawnRunner(["--data-dir", dir, "--flows-dir", flows], env));
    }
    for (const r of runners) await r.waitFor("runner lock acquired", 30_000);
    const pids = runners.map((r) => r.child.pid);
    const xacts = () => backend.kind === "postgres" ? committed(backend.cluster, name) : Promise.resolve(0);
    const xacts0 = await xacts();
    const cpu0 = sampleCpu(pids);
    let t0 = performance.now();
    await Promise.all(
      Array.from({ length: runs }, () => api.runtime.start({ workflowId: "bench@0.0.1:root", vars: {} })),
    );
    // One listing every 100 ms (not a load per run); these asks are not counted as the runners' cost.
    let asked = await until(async () =>
      (await api.stores.runs.list({ status: "completed", limit: runs })).items.length === runs
    );
    const runRate = perSecond(runs, performance.now() - t0);
    const cpu = describeCpu(cpu0, sampleCpu(pids));
    t0 = performance.now();
    let last = "";
    for (let i = 0; i < commands; i++) {
      last = await api.command("emit_event", "nobody-listens", { name: "tick" });
    }
    // Commands are applied in seq order: the last one's outcome means all are done.
    asked += await until(async () => (await api.stores.commands.getOutcome(last)) !== null);
    const commandRate = perSecond(commands, performance.now() - t0);
    for (const r of runners) await r.close(); // their backends exit and flush their statistics
    const perItem = ((await xacts()) - xacts0 - asked) / (runs + commands);
    const tx = backend.kind === "postgres"
      ? `, ${perItem.toFixed(1)} db transactions per run or command`
      : "";
    return `${runRate} runs/s, ${commandRate} commands/s${tx}; runs phase ${cpu}`;
  } finally {
    for (const r of runners) await r.close();
    await api.dispose();
  }
}

/**
 * SSE append→client latency across processes: an API node (`serve --no-runner`, its own process)
 * streams a run's ledger to an SSE client while this process appends to that ledger through its own
 * store connection, as a runner on another node would. PostgreSQL: LISTEN/NOTIFY carries the wake-up;
 * SQLite (context, one machine only): the API process notices the other process's commit.
 */
async function sseLatencyMs(backend: Backend, samples: number): Promise<string> {
  const { dir, flows } = await benchDir("pg-bench-sse-", 3600);
  const databaseUrl = backend.kind === "postgres" ? await backend.cluster.createDatabase("sse") : undefined;
  const env: Record<string, string> = {
    ABSTRACTGATEWAY_AUTH_TOKEN: SSE_TOKEN,
    ABSTRACTGATEWAY_STORE_BACKEND: backend.kind,
    ...(databaseUrl ? { ABSTRACTGATEWAY_DATABASE_URL: databaseUrl } : {}),
  };
  const api = await startServe(env, ["--no-runner", "--data-dir", dir, "--flows-dir", flows]);
  const writer = await openStores({ backend: backend.kind, dataDir: dir, databaseUrl });
  const auth = { Authorization: `Bearer ${SSE_TOKEN}` };
  try {
    const res = await fetch(`${api.url}/api/gateway/runs/start`, {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ bundle_id: "bench", flow_id: "root", input_data: {} }),
    });
    const runId = String((await res.json()).run_id);
    const after = await writer.ledger.count(runId);
    const stream = await fetch(`${api.url}/api/gateway/runs/${runId}/ledger/stream?after=${after}`, {
      headers: auth,
    });
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    const nextStep = async () => {
      for (;;) {
        const at = buffered.indexOf("event: step");
        if (at >= 0) {
          buffered = buffered.slice(at + 11);
          return;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("Cannot measure SSE latency: the stream ended");
        buffered += value;
      }
    };
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      await writer.ledger.append(runId, [record(runId, i)]);
      await nextStep();
      times.push(performance.now() - t0);
    }
    await reader.cancel();
    times.sort((x, y) => x - y);
    return `p50 ${times[Math.floor(samples / 2)].toFixed(1)} ms, p95 ${
      times[Math.floor(samples * 0.95)].toFixed(1)
    } ms`;
  } finally {
    await writer.close();
    await api.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

const SSE_TOKEN = "pg-bench-token";

export async function main(): Promise<void> {
  if (PG_SKIP) {
    console.log(`postgres bench ${PG_SKIP}`);
    return;
  }
  const cluster = await PgCluster.start();
  const pg: Backend = { kind: "postgres", cluster };
  const sqlite: Backend = { kind: "sqlite" };
  const dir = await Deno.makeTempDir({ prefix: "gw-pg-bench-" });
  try {
    const databaseUrl = await cluster.createDatabase("bench");
    const a = await openStores({ backend: "postgres", dataDir: dir, databaseUrl });
    const b = await openStores({ backend: "postgres", dataDir: dir, databaseUrl });
    const local = await openStores({ backend: "sqlite", dataDir: dir });
    try {
      console.log("(each PostgreSQL figure is followed by the single-node SQLite figure for context)");
      console.log(`command appends/s, 1 client:   ${await commandsPerSecond(a, 1, 300)}`);
      console.log(`  SQLite:                      ${await commandsPerSecond(local, 1, 300)}`);
      console.log(`command appends/s, 8 clients:  ${await commandsPerSecond(a, 8, 100)}`);
      console.log(`  SQLite:                      ${await commandsPerSecond(local, 8, 100)}`);
      console.log(`ledger replay pages/s (100 records/page): ${await replayPagesPerSecond(a)}`);
      console.log(`  SQLite:                                 ${await replayPagesPerSecond(local)}`);
      console.log(`append on node B → wake-up on node A: ${await crossNodeWakeMs(a, b, 100)}`);
      console.log(`SSE append (other process) → client on API node A: ${await sseLatencyMs(pg, 50)}`);
      console.log(`  SQLite, two processes on one machine:            ${await sseLatencyMs(sqlite, 50)}`);
      // Interleaved with the SQLite figure so that both see the same background load.
      console.log(`SQLite, 1 runner (one per data dir): ${await scaleOut(sqlite, 1, 300, 300)}`);
      for (const n of [1, 2, 4]) {
        console.log(`${n} runner(s): ${await scaleOut(pg, n, 300, 300)} (commands: one inbox holder)`);
      }
      console.log(
        "(runners, PostgreSQL and this process share this machine's cores: when the machine is 100% busy the " +
          "curve is bounded by CPU, and each extra runner process adds its own overhead; the CPU split shows " +
          "where it goes. Statements per run stay flat with more runners; xact_commit also counts work that " +
          "is not a statement, so read the transactions figure as an upper bound)",
      );
    } finally {
      await a.close();
      await b.close();
      await local.close();
    }
  } finally {
    await cluster.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
