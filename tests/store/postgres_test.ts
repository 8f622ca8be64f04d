/** The store contract on PostgreSQL (one throwaway cluster, one fresh database per case), plus schema versioning. */
import assert from "node:assert/strict";
import postgres from "postgres";
import { openStores } from "../../src/store/open.ts";
import { SCHEMA_VERSION } from "../../src/store/postgres/schema.ts";
import { PG_SKIP, PgCluster, pgTest } from "../helpers/postgres.ts";
import { storeContract } from "./contract.ts";
import { withTempDir } from "./fixtures.ts";

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
    // Several nodes opening at once apply migration 1 exactly once (advisory lock).
    const opened = await Promise.all(
      [1, 2, 3].map(() => openStores({ backend: "postgres", dataDir: dir, databaseUrl: url })),
    );
    await Promise.all(opened.map((s) => s.close()));
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql`SELECT version FROM gateway_schema_migrations ORDER BY version`;
      assert.deepEqual(rows.map((r) => r.version), [SCHEMA_VERSION]);
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

Deno.test({
  ...pgTest("postgres store: stop the throwaway cluster"),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => cluster!.stop(),
});
