/**
 * PostgreSQL figures on a throwaway local cluster (skipped when PostgreSQL is not installed):
 * runs completed per second and commands applied per second with 1, 2 and 4 runner processes (as
 * separate nodes, though here they share this machine's cores with PostgreSQL), command appends per
 * second, ledger replay pages per second, and the cross-node wake-up latency (append on node B →
 * LISTEN/NOTIFY wake-up on node A, the path an SSE stream on A follows).
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
import type { PgStores } from "../src/store/postgres/stores.ts";

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

async function until(done: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
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

/**
 * Runs completed/s and commands applied/s with `n` runners on a fresh database. Each runner is a real
 * `gateway runner` process (as separate nodes would be); runs and commands are written from this
 * process, as an API node would.
 */
async function scaleOut(cluster: PgCluster, n: number, runs: number, commands: number): Promise<string> {
  const url = await cluster.createDatabase(`scale_${n}`);
  const dir = await sandboxTempDir("pg-bench-");
  const flows = join(dir, "flows");
  await writeBundle(flows, {
    bundleId: "bench",
    version: "0.0.1",
    flows: { root: waitUntilFlow("root", 0) },
  });
  const env = { ABSTRACTGATEWAY_DATABASE_URL: url, ABSTRACTGATEWAY_STORE_BACKEND: "postgres" };
  const api = await openHarness("postgres", { dir, env, startRunner: false });
  const runners: LineProcess[] = [];
  try {
    for (let i = 0; i < n; i++) {
      runners.push(spawnRunner(["--data-dir", dir, "--flows-dir", flows], env));
    }
    for (const r of runners) await r.waitFor("runner lock acquired", 30_000);
    const xacts = () => committed(cluster, `scale_${n}`);
    const xacts0 = await xacts();
    let t0 = performance.now();
    await Promise.all(
      Array.from({ length: runs }, () => api.runtime.start({ workflowId: "bench@0.0.1:root", vars: {} })),
    );
    const { sql } = (api.stores as PgStores).db;
    // One count every 100 ms (not a load per run) keeps this process's own queries out of the figures.
    await until(async () =>
      (await sql`SELECT count(*)::int AS n FROM runs WHERE status = 'completed'`)[0].n === runs
    );
    const runRate = perSecond(runs, performance.now() - t0);
    t0 = performance.now();
    for (let i = 0; i < commands; i++) await api.command("emit_event", "nobody-listens", { name: "tick" });
    await until(async () => (await sql`SELECT count(*)::int AS n FROM command_outcomes`)[0].n === commands);
    const commandRate = perSecond(commands, performance.now() - t0);
    for (const r of runners) await r.close(); // their backends exit and flush their statistics
    const perItem = ((await xacts()) - xacts0) / (runs + commands);
    return `${runRate} runs/s, ${commandRate} commands/s, ${
      perItem.toFixed(1)
    } database transactions per run or command`;
  } finally {
    for (const r of runners) await r.close();
    await api.dispose();
  }
}

export async function main(): Promise<void> {
  if (PG_SKIP) {
    console.log(`postgres bench ${PG_SKIP}`);
    return;
  }
  const cluster = await PgCluster.start();
  const dir = await Deno.makeTempDir({ prefix: "gw-pg-bench-" });
  try {
    const databaseUrl = await cluster.createDatabase("bench");
    const a = await openStores({ backend: "postgres", dataDir: dir, databaseUrl });
    const b = await openStores({ backend: "postgres", dataDir: dir, databaseUrl });
    try {
      console.log(`command appends/s, 1 client:   ${await commandsPerSecond(a, 1, 300)}`);
      console.log(`command appends/s, 8 clients:  ${await commandsPerSecond(a, 8, 100)}`);
      console.log(`ledger replay pages/s (100 records/page): ${await replayPagesPerSecond(a)}`);
      console.log(`append on node B → wake-up on node A: ${await crossNodeWakeMs(a, b, 100)}`);
      for (const n of [1, 2, 4]) {
        console.log(`${n} runner(s): ${await scaleOut(cluster, n, 300, 300)} (commands: one inbox holder)`);
      }
    } finally {
      await a.close();
      await b.close();
    }
  } finally {
    await cluster.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
