/** SQLite specifics: the DB path rule, the upstream schema, WAL, and head back-fill on open. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { openStores } from "../../src/store/open.ts";
import { makeRecord, makeRun, makeWait, withTempDir } from "./fixtures.ts";

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir("gw-sqlite-", fn);

Deno.test("sqlite: the DB path must lie under the data dir", () =>
  withDir(async (dir) => {
    for (const dbPath of [join(dir, "..", "elsewhere.sqlite3"), "/tmp/x.sqlite3", dir]) {
      await assert.rejects(
        openStores({ backend: "sqlite", dataDir: join(dir, "data"), dbPath }),
        /ABSTRACTGATEWAY_DB_PATH must point to a file under ABSTRACTGATEWAY_DATA_DIR/,
      );
    }
    await Deno.symlink("/tmp", join(dir, "escape"));
    await assert.rejects(
      openStores({ backend: "sqlite", dataDir: dir, dbPath: join(dir, "escape", "x.sqlite3") }),
      /must point to a file under/,
      "a symlink out of the data dir is refused",
    );
    const stores = await openStores({
      backend: "sqlite",
      dataDir: dir,
      dbPath: join(dir, "sub", "g.sqlite3"),
    });
    await stores.close();
    assert.ok((await Deno.stat(join(dir, "sub", "g.sqlite3"))).isFile);
  }));

Deno.test("sqlite: upstream tables, WAL, wait_index and the default path", () =>
  withDir(async (dir) => {
    const stores = await openStores({ backend: "sqlite", dataDir: dir });
    await stores.runs.save(
      makeRun("w", {
        status: "waiting",
        waiting: makeWait({ reason: "until", until: "2030-01-01T00:00:00.000000+00:00" }),
      }),
    );
    await stores.ledger.append("w", [makeRecord("w", 0)]);
    await stores.close();
    const db = new DatabaseSync(join(dir, "gateway.sqlite3"));
    try {
      const columns = (table: string) => db.prepare(`PRAGMA table_info(${table})`).all().map((c) => c.name);
      assert.deepEqual(columns("runs"), [
        "run_id",
        "workflow_id",
        "status",
        "wait_reason",
        "wait_until",
        "parent_run_id",
        "actor_id",
        "session_id",
        "created_at",
        "updated_at",
        "run_json",
      ]);
      assert.deepEqual(columns("ledger"), ["run_id", "seq", "record_json"]);
      assert.deepEqual(columns("ledger_heads"), ["run_id", "last_seq"]);
      assert.deepEqual(columns("commands"), [
        "seq",
        "command_id",
        "run_id",
        "type",
        "payload_json",
        "ts",
        "client_id",
      ]);
      assert.deepEqual(columns("command_cursors"), ["consumer_id", "cursor", "updated_at"]);
      assert.deepEqual(columns("wait_index"), ["run_id", "next_due_iso", "updated_at_iso", "status"]);
      assert.equal(db.prepare("PRAGMA journal_mode").get()?.journal_mode, "wal");
      const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all().map((r) =>
        r.name
      );
      for (
        const name of [
          "idx_ledger_run_seq",
          "idx_runs_status_updated",
          "idx_wait_index_next_due",
          "idx_commands_run_id",
        ]
      ) {
        assert.ok(indexes.includes(name), name);
      }
      assert.deepEqual(
        db.prepare("SELECT run_id, next_due_iso FROM wait_index").all().map((r) => ({ ...r })),
        [
          { run_id: "w", next_due_iso: "2030-01-01T00:00:00.000000+00:00" },
        ],
      );
      // rows written by an older writer without heads: back-filled on the next open
      db.exec("INSERT INTO ledger(run_id, seq, record_json) VALUES ('old', 1, '{}'), ('old', 2, '{}')");
    } finally {
      db.close();
    }
    const reopened = await openStores({ backend: "sqlite", dataDir: dir });
    try {
      assert.equal(await reopened.ledger.count("old"), 2);
      assert.equal(await reopened.ledger.append("old", [makeRecord("old", 3)]), 3);
    } finally {
      await reopened.close();
    }
  }));

Deno.test("sqlite: a corrupt run row is reported by list and load, the other runs still list", () =>
  withDir(async (dir) => {
    const stores = await openStores({ backend: "sqlite", dataDir: dir });
    try {
      await stores.runs.save(makeRun("good"));
      await stores.runs.save(makeRun("bad", { parent_run_id: "good" }));
      const db = new DatabaseSync(join(dir, "gateway.sqlite3"), { timeout: 5000 });
      db.exec("UPDATE runs SET run_json = '{broken' WHERE run_id = 'bad'");
      db.close();
      const page = await stores.runs.list();
      assert.deepEqual(page.items.map((r) => r.run_id), ["good"]);
      assert.deepEqual(page.errors?.map((e) => e.location), ["runs:bad"]);
      await assert.rejects(stores.runs.load("bad"), /corrupt store entry runs:bad/);
      assert.deepEqual(await stores.runs.listChildren("good"), []);
    } finally {
      await stores.close();
    }
  }));
