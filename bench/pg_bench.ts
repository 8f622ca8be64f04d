/**
 * PostgreSQL figures on a throwaway local cluster (skipped when PostgreSQL is not installed):
 * runs completed per second and commands applied per second with 1, 2 and 4 runners (each with its
 * own pool, as separate nodes; here they share this process and its cores), command appends per
 * second, ledger replay pages per second, and the cross-node wake-up latency (append on node B →
 * LISTEN/NOTIFY wake-up on node A, the path an SSE stream on A follows).
 */
import { openStores } from "../src/store/open.ts";
import type { Stores } from "../src/store/types.ts";
import { PG_SKIP, PgCluster } from "../tests/helpers/postgres.ts";
import { type Harness, openHarness } from "../tests/runner/harness.ts";

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

/** Runs completed/s and commands applied/s with `n` runners on a fresh database. */
async function scaleOut(cluster: PgCluster, n: number, runs: number, commands: number): Promise<string> {
  const env = { ABSTRACTGATEWAY_DATABASE_URL: await cluster.createDatabase(`scale_${n}`) };
  const runners: Harness[] = [];
  try {
    for (let i = 0; i < n; i++) runners.push(await openHarness("postgres", { env }));
    const [first] = runners;
    const until = new Date(0).toISOString(); // already due: start → wait (due) → done
    let t0 = performance.now();
    const started = await Promise.all(
      Array.from({ length: runs }, (_, i) => runners[i % n].start("test:wait_until", { until })),
    );
    runners.forEach((h) => h.runner.kick());
    for (const run of started) await first.waitFor(run.run_id, (r) => r.status === "completed", 120_000);
    const runRate = perSecond(runs, performance.now() - t0);
    t0 = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < commands; i++) {
      ids.push(await runners[i % n].command("emit_event", "nobody-listens", { name: "tick" }));
    }
    for (const id of ids) await first.outcome(id, 120_000);
    return `${runRate} runs/s, ${perSecond(commands, performance.now() - t0)} commands/s`;
  } finally {
    for (const h of runners) await h.dispose();
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
