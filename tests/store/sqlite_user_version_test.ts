/** SQLite schema versioning (PRAGMA user_version): new, pre-versioning, version-1 and too-new DBs. */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { SqliteDb } from "../../src/store/sqlite/db.ts";
import { MIGRATIONS, SCHEMA_VERSION } from "../../src/store/sqlite/schema.ts";
import { SqliteRunStore } from "../../src/store/sqlite/runs.ts";
import { InProcessWakeBus } from "../../src/store/wake.ts";
import { iso } from "./fixtures.ts";
import { runGateway } from "../helpers/gateway_process.ts";
import { sandboxTempDir } from "../helpers/paths.ts";

const userVersion = (path: string) => {
  const db = new DatabaseSync(path);
  try {
    return Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
  } finally {
    db.close();
  }
};

Deno.test("sqlite schema: versioned on create, upgrades a pre-versioning DB, refuses a newer one", async () => {
  const dir = await sandboxTempDir("schema-");
  try {
    const fresh = join(dir, "fresh.sqlite3");
    new SqliteDb(fresh).close();
    assert.equal(userVersion(fresh), SCHEMA_VERSION);
    new SqliteDb(fresh).close(); // reopening changes nothing
    assert.equal(userVersion(fresh), SCHEMA_VERSION);

    // A DB written before versioning: tables, a ledger without heads, user_version 0.
    const old = join(dir, "old.sqlite3");
    const raw = new DatabaseSync(old);
    raw.exec(
      "CREATE TABLE ledger (run_id TEXT NOT NULL, seq INTEGER NOT NULL, record_json TEXT NOT NULL, PRIMARY KEY(run_id, seq))",
    );
    raw.exec(`INSERT INTO ledger VALUES ('r1', 1, '{}'), ('r1', 2, '{}')`);
    raw.close();
    const upgraded = new SqliteDb(old);
    assert.equal(upgraded.get("SELECT last_seq FROM ledger_heads WHERE run_id = 'r1'")?.last_seq, 2);
    upgraded.close();
    assert.equal(userVersion(old), SCHEMA_VERSION);

    // A DB from a newer build is refused with the versions named, through `gateway serve`.
    const data = join(dir, "data");
    await Deno.mkdir(data);
    const future = new DatabaseSync(join(data, "gateway.sqlite3"));
    future.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    future.close();
    const out = await runGateway(["serve", "--port", "0"], {
      ABSTRACTGATEWAY_DATA_DIR: data,
      ABSTRACTGATEWAY_STORE_BACKEND: "sqlite",
      ABSTRACTGATEWAY_AUTH_TOKEN: "schema-test-token-0123456789abcdef",
    });
    assert.equal(out.code, 1);
    assert.match(
      out.stderr,
      new RegExp(
        `Cannot open .*gateway\\.sqlite3: its schema version ${
          SCHEMA_VERSION + 1
        } is newer than this gateway's \\(${SCHEMA_VERSION}\\)`,
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite schema 3: paused runs of a version-1 DB are known paused to the runner's query", async () => {
  const dir = await sandboxTempDir("schema-");
  try {
    const path = join(dir, "v1.sqlite3");
    const raw = new DatabaseSync(path);
    MIGRATIONS[0](raw);
    raw.exec("PRAGMA user_version = 1");
    const insert = raw.prepare(
      "INSERT INTO runs(run_id, workflow_id, status, actor_id, updated_at, run_json) VALUES (?, 'w', 'running', 'gateway', ?, ?)",
    );
    insert.run(
      "held",
      iso(1),
      JSON.stringify({ run_id: "held", vars: { _runtime: { control: { paused: true } } } }),
    );
    insert.run("free", iso(2), JSON.stringify({ run_id: "free", vars: {} }));
    insert.run("broken", iso(3), "{not json");
    raw.close();
    const db = new SqliteDb(path);
    try {
      const runs = new SqliteRunStore(db, new InProcessWakeBus());
      assert.deepEqual(await runs.listRunnable(iso(9), 10, new Set()), ["free", "broken"]);
    } finally {
      db.close();
    }
    assert.equal(userVersion(path), SCHEMA_VERSION);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
