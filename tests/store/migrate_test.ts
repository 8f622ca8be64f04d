/** `migrate --from file --to sqlite`: copy, verification, idempotency, --force, and the CLI. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { openStores } from "../../src/store/open.ts";
import { MigrateError, migrateFileToSqlite } from "../../src/store/migrate.ts";
import type { Stores } from "../../src/store/types.ts";
import { iso, makeCommand, makeRecord, makeRun, makeWait, withTempDir } from "./fixtures.ts";
import { compatTest } from "../helpers/compat.ts";
import { copySamples, ownSamples, upstreamSamples } from "./samples.ts";

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir("gw-migrate-", fn);

async function populate(dir: string): Promise<void> {
  const stores = await openStores({ backend: "file", dataDir: dir });
  try {
    await stores.runs.save(makeRun("r1", { updated_at: iso(2) }));
    await stores.runs.save(makeRun("r2", {
      status: "waiting",
      parent_run_id: "r1",
      waiting: makeWait({ reason: "until", until: iso(30) }),
    }));
    await stores.ledger.append("r1", [0, 1, 2].map((i) => makeRecord("r1", i)));
    await stores.ledger.append("r2", [makeRecord("r2", 0)]);
    await stores.ledger.append("orphan", [makeRecord("orphan", 0)]);
    await stores.commands.append(makeCommand("c1", "r1"));
    await stores.commands.append(makeCommand("c2", "r2", { type: "emit_event", payload: { name: "go" } }));
    await stores.commands.complete({
      command_id: "c1",
      seq: 1,
      run_id: "r1",
      type: "pause",
      status: "applied",
      error: null,
      applied_at: iso(3),
    });
    await stores.artifacts.store(new TextEncoder().encode("snapshot"), { run_id: "r1", filename: "s.json" });
  } finally {
    await stores.close();
  }
}

/** name → bytes of every source file (the DB files excluded). */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && !e.name.startsWith("gateway.sqlite3")) {
      out.set(e.name, await Deno.readTextFile(join(dir, e.name)));
    }
  }
  return out;
}

function dumpDb(path: string): string {
  const db = new DatabaseSync(path);
  try {
    const tables = [
      "runs",
      "wait_index",
      "ledger",
      "ledger_heads",
      "commands",
      "command_outcomes",
      "command_cursors",
    ];
    return JSON.stringify(tables.map((t) => db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2`).all()));
  } finally {
    db.close();
  }
}

async function withSqlite(dir: string, fn: (s: Stores) => Promise<void>) {
  const stores = await openStores({ backend: "sqlite", dataDir: dir });
  try {
    await fn(stores);
  } finally {
    await stores.close();
  }
}

Deno.test("migrate: copies everything, verifies counts, never touches the source, is idempotent", () =>
  withDir(async (dir) => {
    await populate(dir);
    const before = await snapshot(dir);
    const dbPath = join(dir, "gateway.sqlite3");
    const report = await migrateFileToSqlite({ dataDir: dir, dbPath, force: false });
    assert.equal(report.changed, true);
    assert.deepEqual(report.runs, [
      { run_id: "orphan", status: null, ledger_source: 1, ledger_target: 1 },
      { run_id: "r1", status: "running", ledger_source: 3, ledger_target: 3 },
      { run_id: "r2", status: "waiting", ledger_source: 1, ledger_target: 1 },
    ]);
    assert.deepEqual(report.totals, { runs: 2, ledger_records: 5, commands: 2, outcomes: 1, artifacts: 1 });
    const db = new DatabaseSync(dbPath);
    try {
      assert.deepEqual(
        db.prepare("SELECT run_id, filename FROM artifacts").all().map((r) => ({ ...r })),
        [{ run_id: "r1", filename: "s.json" }],
        "artifact metadata is carried into the DB",
      );
    } finally {
      db.close();
    }
    assert.deepEqual(report.cursors, { gateway_runner: 1 });
    assert.deepEqual(await snapshot(dir), before, "source files unchanged");

    await withSqlite(dir, async ({ runs, ledger, commands, artifacts }) => {
      const [artifact] = await artifacts.listByRun("r1");
      assert.equal(
        new TextDecoder().decode((await artifacts.load(artifact.artifact_id))!.content),
        "snapshot",
      );
      assert.deepEqual(await runs.load("r1"), makeRun("r1", { updated_at: iso(2) }));
      assert.equal(await runs.nextWaitUntil(), iso(30));
      assert.deepEqual((await runs.listChildren("r1")).map((r) => r.run_id), ["r2"]);
      assert.deepEqual((await ledger.read("r1", 0, 10)).items, [0, 1, 2].map((i) => makeRecord("r1", i)));
      assert.deepEqual((await commands.listAfter(0, 10)).map((c) => [c.seq, c.command_id]), [[1, "c1"], [
        2,
        "c2",
      ]]);
      assert.equal(await commands.loadCursor(), 1);
      assert.equal((await commands.getOutcome("c1"))?.status, "applied");
    });

    const dump = dumpDb(dbPath);
    const lines: string[] = [];
    const again = await migrateFileToSqlite({
      dataDir: dir,
      dbPath,
      force: false,
      log: (l) => lines.push(l),
    });
    assert.equal(again.changed, false);
    assert.deepEqual(again.runs, report.runs);
    assert.equal(dumpDb(dbPath), dump, "a second run changes nothing");
    assert.deepEqual(lines, [], "an up-to-date target is reported once, by the caller");
  }));

Deno.test("migrate: a target with other data is refused without --force and replaced with it", () =>
  withDir(async (dir) => {
    await populate(dir);
    const dbPath = join(dir, "gateway.sqlite3");
    await migrateFileToSqlite({ dataDir: dir, dbPath, force: false });
    await withSqlite(dir, async ({ runs, ledger }) => {
      await runs.save(makeRun("r1", { status: "completed" }));
      await ledger.append("r9", [makeRecord("r9", 0)]);
    });
    const changed = dumpDb(dbPath);
    await assert.rejects(
      migrateFileToSqlite({ dataDir: dir, dbPath, force: false }),
      (err: unknown) => err instanceof MigrateError && /not empty.*--force/.test(err.message),
    );
    assert.equal(dumpDb(dbPath), changed, "a refused migration writes nothing");
    const forced = await migrateFileToSqlite({ dataDir: dir, dbPath, force: true });
    assert.equal(forced.changed, true);
    await withSqlite(dir, async ({ runs, ledger }) => {
      assert.equal((await runs.load("r1"))?.status, "running");
      assert.equal(await ledger.count("r9"), 0);
    });
  }));

Deno.test("migrate: errors name the problem (missing dir, corrupt run file, DB outside)", () =>
  withDir(async (dir) => {
    await assert.rejects(
      migrateFileToSqlite({
        dataDir: join(dir, "nope"),
        dbPath: join(dir, "nope", "g.sqlite3"),
        force: false,
      }),
      /does not exist/,
    );
    await assert.rejects(
      migrateFileToSqlite({ dataDir: dir, dbPath: "/tmp/outside.sqlite3", force: false }),
      /ABSTRACTGATEWAY_DB_PATH must point to a file under ABSTRACTGATEWAY_DATA_DIR/,
    );
    await Deno.writeTextFile(join(dir, "run_broken.json"), "{nope");
    await assert.rejects(
      migrateFileToSqlite({ dataDir: dir, dbPath: join(dir, "gateway.sqlite3"), force: false }),
      (err: unknown) => err instanceof Error && err.message.includes(join(dir, "run_broken.json")),
    );
  }));

/** Migrating a data dir another writer produced keeps every run with its exact ledger count. */
const migratesWithCounts = (folders: string[]) =>
  withDir(async (dir) => {
    const { ledgerLines } = await copySamples(folders, dir);
    const report = await migrateFileToSqlite({
      dataDir: dir,
      dbPath: join(dir, "gateway.sqlite3"),
      force: false,
    });
    assert.equal(report.runs.length, ledgerLines.size);
    for (const r of report.runs) {
      assert.equal(r.ledger_target, ledgerLines.get(r.run_id), r.run_id);
      assert.notEqual(r.status, null);
    }
    await withSqlite(dir, async ({ runs, ledger }) => {
      assert.equal((await runs.list({ limit: 100 })).items.length, ledgerLines.size);
      for (const [id, n] of ledgerLines) assert.equal((await ledger.read(id, 0, 1000)).items.length, n);
    });
  });

Deno.test("migrate: a data dir our runtime wrote migrates with matching counts per run", () =>
  ownSamples(migratesWithCounts));

compatTest(
  "migrate: an upstream data dir migrates with matching counts per run",
  () => upstreamSamples(migratesWithCounts),
);

async function cli(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-prompt",
      new URL("./workers/migrate_cli.ts", import.meta.url).pathname,
      ...args,
    ],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("migrate CLI: help, usage errors, failures and success output", () =>
  withDir(async (dir) => {
    const help = await cli(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: gateway migrate/);
    assert.equal((await cli(["--bogus"])).code, 2);
    const wrongTo = await cli(["--to", "mysql", "--data-dir", dir]);
    assert.equal(wrongTo.code, 2);
    assert.match(
      wrongTo.stderr,
      /supported are --from file --to sqlite and --from file\|sqlite --to postgres/,
    );
    const noUrl = await cli(["--to", "postgres", "--data-dir", dir]);
    assert.equal(noUrl.code, 2);
    assert.match(noUrl.stderr, /--to postgres needs ABSTRACTGATEWAY_DATABASE_URL/);
    const missing = await cli(["--data-dir", join(dir, "missing")]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.trim().split("\n").length, 1);
    assert.match(missing.stderr, /does not exist/);

    await populate(dir);
    const ok = await cli([], { ABSTRACTGATEWAY_DATA_DIR: dir });
    assert.equal(ok.code, 0, ok.stderr);
    const dbPath = join(dir, "gateway.sqlite3");
    assert.equal(ok.stdout.split("\n")[0], `Migrated file stores from ${dir} to sqlite DB ${dbPath}`);
    assert.match(ok.stdout, /r1\s+running\s+3\s+3/);
    assert.match(ok.stdout, /totals: 2 runs, 5 ledger records, 2 commands/);
    const again = await cli(["--data-dir", dir, "--db-path", dbPath]);
    assert.equal(again.code, 0);
    assert.equal(again.stderr, "");
    assert.deepEqual(again.stdout.trim().split("\n"), [
      `Nothing to do: ${dbPath} already holds every run of ${dir} (2 runs, 5 ledger records, 2 commands, 1 outcomes, 1 artifacts).`,
    ]);
  }));
