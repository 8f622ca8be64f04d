/**
 * Several runners on one PostgreSQL database (each with its own pool, as separate nodes would be):
 * commands raced for by three runners are applied exactly once and in order, `until` timers fire
 * once cluster-wide, and the work spreads over the runners.
 */
import assert from "node:assert/strict";
import { PG_SKIP, PgCluster, pgTest } from "../helpers/postgres.ts";
import { type Harness, openHarness } from "./harness.ts";
import type { RunState } from "../../src/runtime/types.ts";
import { createScheduledRun } from "../../src/runner/schedule.ts";
import { startEndFlow, writeBundle } from "../helpers/bundles.ts";
import { join } from "node:path";
import { LeaseClaims } from "../../src/runner/claims.ts";
import { RunLocks } from "../../src/runner/run_locks.ts";
import { LeaseLostError } from "../../src/store/errors.ts";
import type { PgStores } from "../../src/store/postgres/stores.ts";
import { makeRecord } from "../store/fixtures.ts";

const cluster = PG_SKIP ? null : await PgCluster.start();
let dbCount = 0;

/** `n` runners on one fresh database; with `sharedDir` they also share one data dir (bundles, dynamic flows). */
async function withRunners(
  n: number,
  fn: (runners: Harness[]) => Promise<void>,
  sharedDir?: string,
): Promise<void> {
  const url = await cluster!.createDatabase(`runners_${++dbCount}`);
  const env = {
    ABSTRACTGATEWAY_DATABASE_URL: url,
    ABSTRACTGATEWAY_LEASE_TTL_S: "2",
    ABSTRACTGATEWAY_DB_POOL_SIZE: "4",
  };
  const runners: Harness[] = [];
  try {
    for (let i = 0; i < n; i++) runners.push(await openHarness("postgres", { env, dir: sharedDir }));
    await fn(runners);
  } finally {
    for (const h of runners) await (sharedDir ? h.close() : h.dispose());
    if (sharedDir) await Deno.remove(sharedDir, { recursive: true });
  }
}

const received = (run: RunState) => (Array.isArray(run.vars.received) ? run.vars.received : []);

Deno.test(
  pgTest("3 runners on PostgreSQL: raced commands are applied exactly once, in order, from any node"),
  async () => {
    await withRunners(3, async (runners) => {
      const session = `sess-${crypto.randomUUID()}`;
      const runs = await Promise.all(
        [...Array(6).keys()].map((i) => runners[i % 3].start("test:event_counter", {}, session)),
      );
      for (const r of runs) await runners[0].waitFor(r.run_id, (x) => x.status === "waiting");
      // An event reaches the runs waiting at that moment, so each is sent once all runs wait again;
      // every node posts in turn and every runner is kicked to race for the inbox.
      for (let n = 1; n <= 6; n++) {
        const id = await runners[n % 3].command("emit_event", session, { name: "tick", payload: { n } });
        runners.forEach((h) => h.runner.kick());
        assert.equal((await runners[0].outcome(id, 10_000)).status, "applied");
        for (const r of runs) {
          await runners[n % 3].waitFor(
            r.run_id,
            (x) => received(x).length >= n && x.status === "waiting",
            10_000,
          );
        }
      }
      for (const r of runs) {
        assert.deepEqual(received((await runners[0].stores.runs.load(r.run_id))!), [1, 2, 3, 4, 5, 6]);
      }
    });
  },
);

Deno.test(pgTest("3 runners on PostgreSQL: an until timer fires once cluster-wide"), async () => {
  await withRunners(3, async (runners) => {
    const until = new Date(Date.now() + 400).toISOString();
    const runs = await Promise.all(
      [...Array(12).keys()].map((i) => runners[i % 3].start("test:wait_until", { until })),
    );
    for (const r of runs) {
      await runners[2].waitFor(r.run_id, (x) => x.status === "completed", 10_000);
      const { items } = await runners[0].stores.ledger.read(r.run_id, 0, 100);
      const fired = items.filter((rec) =>
        rec.node_id === "done" && rec.status === "completed" && rec.effect === null
      );
      assert.equal(fired.length, 1, `${r.run_id}: ${JSON.stringify(items)}`);
    }
  });
});

Deno.test(pgTest("3 runners on PostgreSQL: a schedule fires each slot once cluster-wide"), async () => {
  const dir = await Deno.makeTempDir({ prefix: "runner-pg-schedule-" });
  await writeBundle(join(dir, "flows"), {
    bundleId: "demo",
    version: "0.0.1",
    flows: { root: startEndFlow("root") },
  });
  await withRunners(3, async (runners) => {
    for (const h of runners) await h.bundles.reload();
    const { run_id } = await createScheduledRun(runners[0], {
      bundle_id: "demo",
      flow_id: "root",
      input_data: {},
      start_at: "now",
      interval: "0.2s",
      repeat_count: 4,
    });
    runners.forEach((h) => h.runner.kick());
    await runners[1].waitFor(run_id, (r) => r.status === "completed", 15_000);
    const kids = await runners[2].stores.runs.listChildren(run_id);
    assert.equal(kids.length, 4, JSON.stringify(kids.map((k) => [k.run_id, k.created_at])));
    assert.ok(kids.every((k) => k.status === "completed"));
  }, dir);
});

Deno.test(
  pgTest("PostgreSQL leases: a runner whose lease was taken over cannot save a step or append to that run"),
  async () => {
    await withRunners(2, async ([b, a]) => {
      // A is the stale writer, driven by hand through the runner's own claim and lock classes.
      await a.runner.stop();
      const stale = new LeaseClaims(a.stores.leases!, 60_000); // no renewal fires during the test
      await stale.acquire();
      const locks = new RunLocks(stale, new AbortController().signal);
      const { run_id } = await b.start("test:wait_until", {
        until: new Date(Date.now() + 2_000).toISOString(),
      });
      await b.waitFor(run_id, (r) => r.status === "waiting");
      const tickAsStaleWriter = async (): Promise<string> => {
        const run = (await a.stores.runs.load(run_id))!;
        await a.stores.runs.save(run); // while the lease is A's, its writes go through
        // A's tick "blocks" past its lease (as a missed renewal would): B takes the run and finishes it.
        await (a.stores as PgStores).db.sql`
          UPDATE run_leases SET expires_at = now() - interval '1 second' WHERE run_id = ${run_id}`;
        const done = await b.waitFor(run_id, (r) => r.status === "completed", 10_000);
        const length = await a.stores.ledger.count(run_id);
        run.status = "running";
        run.waiting = null;
        run.updated_at = new Date().toISOString();
        await assert.rejects(a.stores.runs.save(run), LeaseLostError);
        await assert.rejects(a.stores.ledger.append(run_id, [makeRecord(run_id, 99)]), LeaseLostError);
        await assert.rejects(a.stores.ledger.appendWithRun!(run, [makeRecord(run_id, 99)]), LeaseLostError);
        assert.deepEqual(await a.stores.runs.load(run_id), done);
        assert.equal(await a.stores.ledger.count(run_id), length);
        return "fenced";
      };
      // B's runner may hold the run's lease for a moment (its own tick); A claims it once B lets go.
      const claimBy = Date.now() + 1_500;
      let outcome: { value: string } | "skipped" = "skipped";
      while (outcome === "skipped" && Date.now() < claimBy) {
        outcome = await locks.tryWith(run_id, tickAsStaleWriter);
        if (outcome === "skipped") await new Promise((r) => setTimeout(r, 20));
      }
      assert.deepEqual(outcome, { value: "fenced" });
      await stale.releaseAll();
    });
  },
);

Deno.test({
  ...pgTest("3 runners on PostgreSQL: stop the throwaway cluster"),
  fn: () => cluster!.stop(),
});
