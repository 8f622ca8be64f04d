/**
 * Several runners on one PostgreSQL database (each with its own pool, as separate nodes would be):
 * commands raced for by three runners are applied exactly once and in order, `until` timers fire
 * once cluster-wide, and the work spreads over the runners.
 */
import assert from "node:assert/strict";
import { PG_SKIP, PgCluster, pgTest } from "../helpers/postgres.ts";
import { type Harness, openHarness } from "./harness.ts";
import type { RunState } from "../../src/runtime/types.ts";

const cluster = PG_SKIP ? null : await PgCluster.start();
let dbCount = 0;

async function withRunners(n: number, fn: (runners: Harness[]) => Promise<void>): Promise<void> {
  const url = await cluster!.createDatabase(`runners_${++dbCount}`);
  const env = {
    ABSTRACTGATEWAY_DATABASE_URL: url,
    ABSTRACTGATEWAY_LEASE_TTL_S: "2",
    ABSTRACTGATEWAY_DB_POOL_SIZE: "4",
  };
  const runners: Harness[] = [];
  try {
    for (let i = 0; i < n; i++) runners.push(await openHarness("postgres", { env }));
    await fn(runners);
  } finally {
    for (const h of runners) await h.dispose();
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

Deno.test({
  ...pgTest("3 runners on PostgreSQL: stop the throwaway cluster"),
  fn: () => cluster!.stop(),
});
