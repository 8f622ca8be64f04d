/**
 * `migrate --from file|sqlite --to postgres`: copies runs, ledgers, the command inbox, command
 * outcomes and the runner cursor from a file or SQLite store into PostgreSQL, in one transaction
 * (artifact metadata that SQLite kept in its DB is written to the data dir's files, which
 * PostgreSQL deployments read),
 * then verifies the ledger count of every run. The source is read through the store interfaces
 * while this process holds the source's runner lock, so it refuses to run while a runner ticks the
 * source (and no runner can start during the copy). A target that already holds exactly this data
 * is left untouched; a target holding anything else is refused unless `force`, which replaces it.
 */
import { resolve } from "node:path";
import type { CommandOutcome, Stores } from "./types.ts";
import { RUNNER_CONSUMER } from "./types.ts";
import type { CommandRecord, RunState } from "../runtime/types.ts";
import { openStores } from "./open.ts";
import { ArtifactPaths } from "./artifact_meta.ts";
import { exportMetaFiles, readMetaFiles } from "./file/artifacts.ts";
import { SqliteArtifactStore } from "./sqlite/artifacts.ts";
import { MigrateError, type MigrateReport, type MigrateRunCount } from "./migrate.ts";
import { PgDb, type TxSql } from "./postgres/db.ts";
import { migrateSchema } from "./postgres/schema.ts";
import { upsertRun } from "./postgres/runs.ts";
import { insertLedger } from "./postgres/ledger.ts";
import { insertCommand, saveCursor } from "./postgres/commands.ts";
import { RunnerLock } from "../runner/lock.ts";
import { nowIso } from "../util/time.ts";

export interface MigratePostgresOptions {
  from: "file" | "sqlite";
  dataDir: string;
  dbPath: string;
  databaseUrl: string;
  force: boolean;
  log?: (line: string) => void;
}

const PAGE = 1000;
const TABLES = [
  "runs",
  "ledger",
  "ledger_heads",
  "commands",
  "command_outcomes",
  "command_cursors",
  "run_leases",
];

interface Source {
  runs: RunState[];
  commands: CommandRecord[];
  outcomes: CommandOutcome[];
  cursor: number;
}

async function readSource(stores: Stores): Promise<Source> {
  const runs: RunState[] = [];
  for (let cursor: string | null = null;;) {
    const page = await stores.runs.list({ limit: PAGE, cursor });
    if (page.errors?.length) {
      throw new MigrateError(`source has unreadable runs: ${page.errors.map((e) => e.location).join(", ")}`);
    }
    runs.push(...page.items);
    if (!(cursor = page.next_cursor)) break;
  }
  runs.sort((a, b) => a.run_id < b.run_id ? -1 : 1);
  const commands: CommandRecord[] = [];
  for (let after = 0;;) {
    const batch = await stores.commands.listAfter(after, PAGE);
    commands.push(...batch);
    if (batch.length < PAGE) break;
    after = batch[batch.length - 1].seq;
  }
  const outcomes: CommandOutcome[] = [];
  for (const c of commands) {
    const outcome = await stores.commands.getOutcome(c.command_id);
    if (outcome) outcomes.push(outcome);
  }
  return { runs, commands, outcomes, cursor: await stores.commands.loadCursor(RUNNER_CONSUMER) };
}

/** Calls `fn` with each page of a run's ledger, in order. */
async function eachLedgerPage(stores: Stores, runId: string, fn: (items: unknown[]) => Promise<void>) {
  for (let after = 0;;) {
    const page = await stores.ledger.read(runId, after, PAGE);
    if (page.items.length) await fn(page.items);
    if (page.items.length < PAGE) return;
    after = page.next_after;
  }
}

async function importAll(tx: TxSql, stores: Stores, src: Source): Promise<void> {
  for (const table of TABLES) await tx.unsafe(`DELETE FROM ${table}`);
  for (const run of src.runs) {
    await upsertRun(tx, run);
    await eachLedgerPage(stores, run.run_id, async (items) => void await insertLedger(tx, run.run_id, items));
  }
  for (const c of src.commands) await insertCommand(tx, c, c.seq);
  for (const o of src.outcomes) {
    await tx`INSERT INTO command_outcomes(command_id, seq, run_id, type, status, error, applied_at, consumer_id)
      VALUES (${o.command_id}, ${o.seq}, ${o.run_id}, ${o.type}, ${o.status}, ${o.error}, ${o.applied_at},
        ${RUNNER_CONSUMER})`;
  }
  if (src.cursor > 0) await saveCursor(tx, RUNNER_CONSUMER, src.cursor, nowIso());
}

/** True when the target holds exactly the source's runs (JSON), ledger lengths and commands. */
async function targetMatches(db: PgDb, stores: Stores, src: Source): Promise<boolean> {
  const runs = await db.query((sql) => sql`SELECT run_id, run_json FROM runs ORDER BY run_id`);
  if (runs.length !== src.runs.length) return false;
  if (runs.some((r, i) => r.run_json !== JSON.stringify(src.runs[i]))) return false;
  const commands = await db.query((sql) => sql`SELECT seq, command_id FROM commands ORDER BY seq`);
  if (commands.length !== src.commands.length) return false;
  if (commands.some((c, i) => Number(c.seq) !== src.commands[i].seq)) return false;
  for (const run of src.runs) {
    const [head] = await db.query((sql) =>
      sql`SELECT last_seq FROM ledger_heads WHERE run_id = ${run.run_id}`
    );
    if (Number(head?.last_seq ?? 0) !== await stores.ledger.count(run.run_id)) return false;
  }
  return true;
}

async function verify(db: PgDb, stores: Stores, src: Source): Promise<MigrateRunCount[]> {
  const counts: MigrateRunCount[] = [];
  for (const run of src.runs) {
    const source = await stores.ledger.count(run.run_id);
    const [row] = await db.query((sql) =>
      sql`SELECT (SELECT COUNT(*) FROM ledger WHERE run_id = ${run.run_id}) AS n,
        (SELECT last_seq FROM ledger_heads WHERE run_id = ${run.run_id}) AS head,
        (SELECT status FROM runs WHERE run_id = ${run.run_id}) AS status`
    );
    const rows = Number(row.n);
    if (rows !== source || Number(row.head ?? 0) !== source) {
      throw new MigrateError(
        `verification failed for run ${run.run_id}: ${source} ledger records in the source, ${rows} rows ` +
          `(head ${row.head ?? 0}) in PostgreSQL`,
      );
    }
    if (row.status === null) {
      throw new MigrateError(`verification failed: run ${run.run_id} missing in PostgreSQL`);
    }
    counts.push({
      run_id: run.run_id,
      status: String(row.status),
      ledger_source: source,
      ledger_target: rows,
    });
  }
  const [totals] = await db.query((sql) =>
    sql`SELECT (SELECT COUNT(*) FROM runs) AS runs, (SELECT COUNT(*) FROM commands) AS commands`
  );
  for (const [table, expected] of [["runs", src.runs.length], ["commands", src.commands.length]] as const) {
    if (Number(totals[table]) !== expected) {
      throw new MigrateError(
        `verification failed: ${totals[table]} ${table} in PostgreSQL, ${expected} in the source`,
      );
    }
  }
  return counts;
}

export async function migrateToPostgres(options: MigratePostgresOptions): Promise<MigrateReport> {
  const log = options.log ?? (() => {});
  const dataDir = resolve(options.dataDir);
  const info = await Deno.stat(dataDir).catch(() => null);
  if (!info?.isDirectory) throw new MigrateError(`data dir ${dataDir} does not exist or is not a directory`);
  const lock = new RunnerLock(dataDir);
  if (!(await lock.tryAcquire({ recordPid: false }))) {
    lock.release();
    throw new MigrateError(`a runner holds the source (${lock.path}); stop every runner on ${dataDir} first`);
  }
  try {
    const stores = await openStores({ backend: options.from, dataDir, dbPath: options.dbPath });
    const db = new PgDb(options.databaseUrl, { max: 2 });
    try {
      await db.query((sql) => migrateSchema(sql));
      const src = await readSource(stores);
      const [{ n }] = await db.query((sql) =>
        sql.unsafe(`SELECT ${TABLES.map((t) => `(SELECT COUNT(*) FROM ${t})`).join(" + ")} AS n`)
      );
      const empty = Number(n) === 0;
      // Already up to date: nothing is written and the report says so (changed: false).
      const changed = empty || !(await targetMatches(db, stores, src));
      if (changed) {
        if (!empty && !options.force) {
          throw new MigrateError(
            "target PostgreSQL database is not empty and differs from the source; pass --force to replace its contents",
          );
        }
        if (!empty) log("--force: replacing the contents of the PostgreSQL database");
        await db.tx((tx) => importAll(tx, stores, src));
      }
      const runs = await verify(db, stores, src);
      // PostgreSQL reads artifact metadata from the data dir's files; SQLite keeps it in its DB.
      const paths = new ArtifactPaths(dataDir);
      const metas = stores.artifacts instanceof SqliteArtifactStore
        ? await stores.artifacts.all()
        : await readMetaFiles(paths);
      await exportMetaFiles(paths, metas);
      const artifacts = metas.length;
      return {
        dataDir,
        dbPath: "postgres",
        changed,
        runs,
        totals: {
          runs: src.runs.length,
          ledger_records: runs.reduce((sum, r) => sum + r.ledger_target, 0),
          commands: src.commands.length,
          outcomes: src.outcomes.length,
          artifacts,
        },
        cursors: src.cursor > 0 ? { [RUNNER_CONSUMER]: src.cursor } : {},
        skipped: [],
      };
    } finally {
      await db.close();
      await stores.close();
    }
  } finally {
    lock.release();
  }
}
