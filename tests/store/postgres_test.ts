/** The store contract on PostgreSQL (one throwaway cluster, one fresh database per case), plus schema versioning. */
import assert from "node:assert/strict";
import postgres from "postgres";
import { openStores } from "../../src/store/open.ts";
import { MIGRATIONS, SCHEMA_VERSION } from "../../src/store/postgres/schema.ts";
import { PG_SKIP, PgCluster, pgTest } from "../helpers/postgres.ts";
import { storeContract } from "./contract.ts";
import { appliedOutcome, makeCommand, makeRecord, makeRun, withTempDir } from "./fixtures.ts";
import { migrateToPostgres } from "../../src/store/migrate_postgres.ts";
import { RunnerLock } from "../../src/runner/lock.ts";
import { join } from "node:path";
import { withFence } from "../../src/store/fence.ts";

const cluster = PG_SKIP ? null : await PgCluster.start();
let dbCount = 0;
const freshDb = () => cluster!.createDatabase(`contract_${++dbCount}`);

if (cluster) {
  // One database per data dir: reopening the same dir (the reopen and second-instance cases) finds the same data.
  const dbByDir = new Map<string, Promise<string>>();
  storeContract("postgres", async (dataDir) => {
    if (!dbByDir.has(dataDir)) dbByDir.set(dataDir, freshDb());
    return openStores({ backend: "postgres", dataDir, databaseUrl: await dbByDir.get(dataDir), poolSize: 4 });
  });
}

Deno.test(pgTest("postgres store: schema is versioned and a newer schema is refused"), async () => {
  const url = await freshDb();
  await withTempDir("gw-pg-", async (dir) => {
    // Several nodes opening at once apply each migration exactly once (advisory lock).
    const opened = await Promise.all(
      [1, 2, 3].map(() => openStores({ backend: "postgres", dataDir: dir, databaseUrl: url })),
    );
    await Promise.all(opened.map((s) => s.close()));
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql`SELECT version FROM gateway_schema_migrations ORDER BY version`;
      assert.deepEqual(rows.map((r) => r.version), MIGRATIONS.map((m) => m.version));
      await sql`INSERT INTO gateway_schema_migrations(version, name) VALUES (${
        SCHEMA_VERSION + 1
      }, 'future')`;
    } finally {
      await sql.end();
    }
    await assert.rejects(
      openStores({ backend: "postgres", dataDir: dir, databaseUrl: url }),
      new RegExp(`schema is version ${SCHEMA_VERSION + 1}, newer than this gateway knows`),
    );
  });
});

// The driver re-arms its LISTEN reconnect timer while the server is down and may still hold it when
// the pool ends (connection.js reconnect backoff); that timer is the driver's, so the sanitizers are off here.
Deno.test({
  ...pgTest("postgres store: an unreachable server is a retryable 'unavailable' error"),
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const url = await freshDb();
  await withTempDir("gw-pg-", async (dir) => {
    const stores = await openStores({ backend: "postgres", dataDir: dir, databaseUrl: url });
    try {
      await cluster!.stopServer();
      await assert.rejects(stores.runs.load("r1"), {
        name: "StoreUnavailableError",
        message: /Cannot reach PostgreSQL/,
      });
      await cluster!.restart();
      assert.equal(await stores.runs.load("r1"), null); // the pool reconnected by itself
    } finally {
      await stores.close();
    }
  });
});

for (const from of ["file", "sqlite"] as const) {
  Deno.test(
    pgTest(
      `migrate --from ${from} --to postgres: copies, verifies per run, is idempotent, refuses while a runner holds the source`,
    ),
    async () => {
      const databaseUrl = await freshDb();
      await withTempDir("gw-pg-migrate-", async (dir) => {
        const dbPath = join(dir, "gateway.sqlite3");
        const source = await openStores({ backend: from, dataDir: dir, dbPath });
        try {
          for (const id of ["m1", "m2"]) {
            await source.runs.save(makeRun(id));
            await source.ledger.append(id, [0, 1, 2].map((i) => makeRecord(id, i)));
          }
          await source.commands.append(makeCommand("c1", "m1"));
          await source.commands.append(makeCommand("c2", "m2"));
          await source.commands.complete(appliedOutcome("c1", 1, "m1"));
          await source.artifacts.store(new TextEncoder().encode("snap"), {
            run_id: "m1",
            filename: "s.json",
          });
        } finally {
          await source.close();
        }
        const options = { from, dataDir: dir, dbPath, databaseUrl, force: false };
        const holder = new RunnerLock(dir);
        assert.ok(await holder.tryAcquire());
        await assert.rejects(migrateToPostgres(options), /a runner holds the source/);
        holder.release();

        const report = await migrateToPostgres(options);
        assert.equal(report.changed, true);
        assert.deepEqual(report.runs.map((r) => [r.run_id, r.ledger_source, r.ledger_target]), [
          ["m1", 3, 3],
          ["m2", 3, 3],
        ]);
        assert.deepEqual(report.totals, {
          runs: 2,
          ledger_records: 6,
          commands: 2,
          outcomes: 1,
          artifacts: 1,
        });
        assert.equal((await migrateToPostgres(options)).changed, false);

        const target = await openStores({ backend: "postgres", dataDir: dir, databaseUrl });
        try {
          assert.deepEqual(await target.runs.load("m2"), makeRun("m2"));
          const [artifact] = await target.artifacts.listByRun("m1");
          assert.equal(artifact?.filename, "s.json", "the artifact metadata moved with the runs");
          assert.equal(
            new TextDecoder().decode((await target.artifacts.load(artifact.artifact_id))!.content),
            "snap",
          );
          assert.deepEqual(
            (await target.ledger.read("m1", 0, 10)).items,
            [0, 1, 2].map((i) => makeRecord("m1", i)),
          );
          assert.equal(await target.commands.loadCursor(), 1);
          assert.equal((await target.commands.getOutcome("c1"))?.status, "applied");
          assert.equal((await target.commands.append(makeCommand("c3"))).seq, 3);
        } finally {
          await target.close();
        }
        // Now the target differs from the source: refused without --force, replaced with it.
        await assert.rejects(migrateToPostgres(options), /not empty and differs from the source/);
        assert.equal((await migrateToPostgres({ ...options, force: true })).changed, true);
      });
    },
  );
}

const paused = (runId: string) => makeRun(runId, { vars: { _runtime: { control: { paused: true } } } });

Deno.test(
  pgTest("postgres store: claims skip paused runs, including runs paused before the schema upgrade"),
  async () => {
    const url = await freshDb();
    // A database at schema 2 (before the paused column) that already holds a paused and a running run.
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      for (const m of MIGRATIONS.filter((m) => m.version <= 2)) {
        await sql.unsafe(m.sql);
        await sql.unsafe(`CREATE TABLE IF NOT EXISTS gateway_schema_migrations (
          version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
        await sql`INSERT INTO gateway_schema_migrations(version, name) VALUES (${m.version}, ${m.name})`;
      }
      for (const run of [paused("old-paused"), makeRun("old-running")]) {
        await sql`INSERT INTO runs(run_id, workflow_id, status, updated_at, actor_id, run_json)
          VALUES (${run.run_id}, ${run.workflow_id}, ${run.status}, ${run.updated_at}, 'gateway', ${
          JSON.stringify(run)
        })`;
      }
    } finally {
      await sql.end();
    }
    await withTempDir("gw-pg-", async (dir) => {
      const stores = await openStores({ backend: "postgres", dataDir: dir, databaseUrl: url });
      try {
        await stores.runs.save(paused("new-paused"));
        await stores.runs.save(makeRun("new-running"));
        const claim = (owner: string) =>
          stores.leases!.claimRunnable({
            owner,
            ttlMs: 60_000,
            limit: 10,
            nowIso: new Date().toISOString(),
            exclude: [],
          });
        assert.deepEqual((await claim("a")).map((c) => c.run.run_id).sort(), ["new-running", "old-running"]);
        // Resumed (saved unpaused): claimable again.
        await stores.runs.save(makeRun("new-paused"));
        assert.deepEqual((await claim("b")).map((c) => c.run.run_id), ["new-paused"]);
      } finally {
        await stores.close();
      }
    });
  },
);

Deno.test(
  pgTest("postgres store: runner heartbeats are shared by every node and leave when a runner stops"),
  async () => {
    const url = await freshDb();
    await withTempDir("gw-pg-", async (dir) => {
      const [a, b] = await Promise.all(
        [1, 2].map(() => openStores({ backend: "postgres", dataDir: dir, databaseUrl: url, poolSize: 2 })),
      );
      try {
        const started_at = new Date().toISOString();
        await a.runners!.beat({ runner_id: "r1", pid: 11, started_at });
        await a.runners!.beat({ runner_id: "r1", pid: 11, started_at }); // a beat updates, never duplicates
        await b.runners!.beat({ runner_id: "r2", pid: 22, started_at });
        const seen = await b.runners!.seen(10_000);
        assert.deepEqual(seen.map((r) => r.runner_id).sort(), ["r1", "r2"]);
        assert.ok(seen.every((r) => r.host === "127.0.0.1" && r.age_ms >= 0 && r.age_ms < 10_000));
        await new Promise((r) => setTimeout(r, 300));
        await b.runners!.beat({ runner_id: "r2", pid: 22, started_at });
        // Only beats within the window count (r1 is 300 ms old now).
        assert.deepEqual((await a.runners!.seen(200)).map((r) => r.runner_id), ["r2"]);
        await b.runners!.remove("r2");
        assert.deepEqual((await a.runners!.seen(10_000)).map((r) => r.pid), [11]);
      } finally {
        await a.close();
        await b.close();
      }
    });
  },
);

Deno.test(
  pgTest(
    "postgres store: under a lease, the load right after a save is that save; any other load reads the database",
  ),
  async () => {
    const url = await freshDb();
    await withTempDir("gw-pg-", async (dir) => {
      const [mine, other] = await Promise.all(
        [1, 2].map(() => openStores({ backend: "postgres", dataDir: dir, databaseUrl: url, poolSize: 2 })),
      );
      try {
        await mine.runs.save(makeRun("j1"));
        const token = (await mine.leases!.claim("j1", "me", 60_000))!;
        const other_write = (n: number) => other.runs.save(makeRun("j1", { vars: { by: "other", n } }));
        await withFence({ runId: "j1", owner: "me", token }, async () => {
          const run = makeRun("j1", { vars: { by: "me" } });
          await mine.runs.save(run);
          run.vars.by = "changed after the save"; // the answer is a copy of what was saved
          await other_write(1);
          assert.deepEqual(await mine.runs.load("j1"), makeRun("j1", { vars: { by: "me" } }));
          assert.deepEqual((await mine.runs.load("j1"))?.vars, { by: "other", n: 1 }, "one load per save");
          await mine.runs.save(run);
          await mine.ledger.append("j1", [makeRecord("j1", 0)]);
          await other_write(2);
          assert.deepEqual((await mine.runs.load("j1"))?.vars, { by: "other", n: 2 }, "an append in between");
          await mine.ledger.appendWithRun!(run, []);
          assert.deepEqual((await mine.runs.load("j1"))?.vars, run.vars, "appendWithRun is a save");
        });
        await mine.runs.save(makeRun("j1", { vars: { by: "me" } })); // not under the lease: a plain save
        await other_write(3);
        assert.deepEqual((await mine.runs.load("j1"))?.vars, { by: "other", n: 3 });
        // A stale token (a lease since claimed again): the save fails and leaves nothing to load.
        await withFence({ runId: "j1", owner: "me", token: token - 1 }, async () => {
          await assert.rejects(mine.runs.save(makeRun("j1")), /lease/i);
          assert.deepEqual((await mine.runs.load("j1"))?.vars, { by: "other", n: 3 });
        });
      } finally {
        await mine.close();
        await other.close();
      }
    });
  },
);

// Last: every case above uses the cluster.
Deno.test({
  ...pgTest("postgres store: stop the throwaway cluster"),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => cluster!.stop(),
});
