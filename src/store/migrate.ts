/**
 * `migrate --from file --to sqlite`: copies runs, ledgers, the command inbox, command outcomes,
 * consumer cursors and artifact metadata (the `.meta` files; blob files are shared by both backends
 * and stay where they are) from a file data dir into the SQLite DB, in one transaction, then verifies the
 * counts per run. The source is only read (no locks, no repairs). A target that already holds exactly
 * this data is left untouched (idempotent); a target holding anything else is refused unless
 * `force`, which replaces its contents. Ledgers are read one run at a time, so memory stays bounded
 * by the largest ledger, not the data dir.
 */
import { join, resolve } from "node:path";
import type { CommandRecord, RunState } from "../runtime/types.ts";
import { RUNNER_CONSUMER } from "./types.ts";
import { type JsonObj, parseJsonl } from "./file/jsonl.ts";
import { parseRunFile, RUN_FILE } from "./file/runs.ts";
import { LEDGER_FILE, ledgerFileName } from "./file/ledger.ts";
import { isNotFound } from "./file/fsutil.ts";
import { cursorFileName, parseCursorFile, toCommandRecord, toOutcome } from "./file/commands.ts";
import { resolveDbPath } from "./open.ts";
import { type Row, SqliteDb } from "./sqlite/db.ts";
import { upsertRun } from "./sqlite/runs.ts";
import { insertLedger } from "./sqlite/ledger.ts";
import { saveCursor } from "./sqlite/commands.ts";
import { nowIso } from "../util/time.ts";
import type { ArtifactMeta } from "./types.ts";
import { ArtifactPaths } from "./artifact_meta.ts";
import { readMetaFiles } from "./file/artifacts.ts";
import { importMetaFiles } from "./sqlite/artifacts.ts";

export interface MigrateOptions {
  dataDir: string;
  dbPath: string;
  force: boolean;
  log?: (line: string) => void;
  /** Called after each run's ledger is imported (e.g. a progress line on a terminal). */
  progress?: (done: number, total: number) => void;
}

export interface MigrateRunCount {
  run_id: string;
  /** Null for a ledger without a run file. */
  status: string | null;
  ledger_source: number;
  ledger_target: number;
}

export interface MigrateReport {
  dataDir: string;
  dbPath: string;
  /** False when the target already held exactly the source data. */
  changed: boolean;
  runs: MigrateRunCount[];
  totals: { runs: number; ledger_records: number; commands: number; outcomes: number; artifacts: number };
  cursors: Record<string, number>;
  /** Source lines that were not migrated, with the reason. */
  skipped: string[];
}

export class MigrateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MigrateError";
  }
}

interface Outcome {
  command_id: string;
  seq: number;
  run_id: string;
  type: string;
  status: string;
  error: string | null;
  applied_at: string;
  consumer: string;
}

/** Everything but the ledgers, which are read per run when needed. */
interface Source {
  dataDir: string;
  runs: Map<string, RunState>;
  ledgerIds: string[];
  commands: CommandRecord[];
  outcomes: Outcome[];
  cursors: Map<string, number>;
  skipped: string[];
  /** Ledger lengths as last read (what was compared or imported), so verify need not re-read them. */
  ledgerLengths: Map<string, number>;
  artifacts: ArtifactMeta[];
}

const TABLES = [
  "runs",
  "wait_index",
  "paused_runs",
  "ledger",
  "ledger_heads",
  "commands",
  "command_outcomes",
  "command_cursors",
];

function readOptional(path: string): Uint8Array | null {
  try {
    return Deno.readFileSync(path);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

function readLedger(src: Source, runId: string): JsonObj[] {
  const records = parseJsonl(readOptional(join(src.dataDir, ledgerFileName(runId))) ?? new Uint8Array());
  src.ledgerLengths.set(runId, records.length);
  return records;
}

function readSource(dataDir: string): Source {
  const names = [...Deno.readDirSync(dataDir)].filter((e) => e.isFile).map((e) => e.name).sort();
  const src: Source = {
    dataDir,
    runs: new Map(),
    ledgerIds: [],
    commands: [],
    outcomes: [],
    cursors: new Map(),
    skipped: [],
    ledgerLengths: new Map(),
    artifacts: [],
  };
  for (const name of names) {
    const run = RUN_FILE.exec(name);
    if (run) {
      const path = join(dataDir, name);
      const state = parseRunFile(path, readOptional(path) ?? new Uint8Array());
      if (state.run_id !== run[1]) {
        throw new MigrateError(
          `${path}: run_id ${JSON.stringify(state.run_id)} does not match the file name`,
        );
      }
      src.runs.set(run[1], state);
    }
    const ledger = LEDGER_FILE.exec(name);
    if (ledger) src.ledgerIds.push(ledger[1]);
  }
  readCommands(src, parseJsonl(readOptional(join(dataDir, "commands.jsonl")) ?? new Uint8Array()));
  readOutcomes(src, parseJsonl(readOptional(join(dataDir, "command_outcomes.jsonl")) ?? new Uint8Array()));
  // A cursor is the max of its file and the outcomes (the file backend's loadCursor rule).
  for (const consumer of new Set([RUNNER_CONSUMER, ...src.outcomes.map((o) => o.consumer)])) {
    const file = readOptional(join(dataDir, cursorFileName(consumer)));
    const fromOutcomes = Math.max(
      0,
      ...src.outcomes.filter((o) => o.consumer === consumer).map((o) => o.seq),
    );
    const cursor = Math.max(parseCursorFile(file), fromOutcomes);
    if (cursor > 0 || file !== null) src.cursors.set(consumer, cursor);
  }
  return src;
}

/** Upstream inbox rules: required fields, seq > 0, first command_id wins, seq strictly increasing. */
function readCommands(src: Source, rows: JsonObj[]): void {
  const seenIds = new Set<string>();
  let lastSeq = 0;
  for (const r of rows) {
    const missing = ["command_id", "run_id", "type", "ts"].filter((k) =>
      typeof r[k] !== "string" || r[k] === ""
    );
    const seq = r.seq as number;
    if (missing.length > 0 || !Number.isSafeInteger(seq) || seq <= 0) {
      src.skipped.push(
        `commands.jsonl: ${JSON.stringify(r).slice(0, 80)} (missing ${missing.join(", ") || "seq"})`,
      );
    } else if (seenIds.has(r.command_id as string)) {
      src.skipped.push(`commands.jsonl: duplicate command_id ${r.command_id} (first one kept)`);
    } else if (seq <= lastSeq) {
      src.skipped.push(`commands.jsonl: seq ${seq} of ${r.command_id} is not above ${lastSeq}`);
    } else {
      seenIds.add(r.command_id as string);
      lastSeq = seq;
      src.commands.push(toCommandRecord(r));
    }
  }
}

function readOutcomes(src: Source, rows: JsonObj[]): void {
  const ids = new Set<string>();
  for (const r of rows) {
    if (typeof r.command_id !== "string" || !Number.isSafeInteger(r.seq) || ids.has(r.command_id)) continue;
    ids.add(r.command_id);
    src.outcomes.push({ ...toOutcome(r), consumer: String(r.consumer ?? RUNNER_CONSUMER) });
  }
}

const commandRow = (c: CommandRecord) =>
  [c.seq, c.command_id, c.run_id, c.type, JSON.stringify(c.payload), c.ts, c.client_id ?? ""].join("\t");
const outcomeRow = (o: Outcome) =>
  [o.command_id, o.seq, o.run_id, o.type, o.status, o.error ?? "", o.applied_at, o.consumer].join("\t");

function sameLines(sql: SqliteDb, query: string, row: (r: Row) => unknown[], expected: string[]): boolean {
  const actual = sql.all(query).map((r) => row(r).join("\t"));
  return actual.length === expected.length && actual.every((line, i) => line === expected[i]);
}

/** True when the target holds exactly what importing the source would write. */
function targetMatches(sql: SqliteDb, src: Source): boolean {
  const runIds = [...src.runs.keys()].sort();
  if (
    !sameLines(
      sql,
      "SELECT run_id, run_json FROM runs ORDER BY run_id",
      (r) => [r.run_id, r.run_json],
      runIds.map((id) => `${id}\t${JSON.stringify(src.runs.get(id))}`),
    )
  ) return false;
  const counts = new Map<string, number>();
  for (const r of sql.all("SELECT run_id, COUNT(*) AS n FROM ledger GROUP BY run_id")) {
    counts.set(String(r.run_id), Number(r.n));
  }
  let nonEmpty = 0;
  for (const id of src.ledgerIds) {
    const records = readLedger(src, id);
    if (records.length === 0) continue;
    nonEmpty++;
    if (counts.get(id) !== records.length) return false;
    const rows = sql.db.prepare("SELECT record_json FROM ledger WHERE run_id = ? ORDER BY seq").iterate(id);
    let i = 0;
    for (const row of rows) if ((row as Row).record_json !== JSON.stringify(records[i++])) return false;
  }
  if (counts.size !== nonEmpty) return false;
  return sameLines(
    sql,
    "SELECT seq, command_id, run_id, type, payload_json, ts, client_id FROM commands ORDER BY seq",
    (r) => [r.seq, r.command_id, r.run_id, r.type, r.payload_json, r.ts, r.client_id ?? ""],
    src.commands.map(commandRow),
  ) && sameLines(
    sql,
    "SELECT command_id, seq, run_id, type, status, error, applied_at, consumer_id FROM command_outcomes ORDER BY command_id",
    (r) => [r.command_id, r.seq, r.run_id, r.type, r.status, r.error ?? "", r.applied_at, r.consumer_id],
    [...src.outcomes].sort((a, b) => a.command_id < b.command_id ? -1 : 1).map(outcomeRow),
  ) && sameLines(
    sql,
    "SELECT consumer_id, cursor FROM command_cursors ORDER BY consumer_id",
    (r) => [r.consumer_id, r.cursor],
    [...src.cursors.entries()].sort().map(([k, v]) => `${k}\t${v}`),
  );
}

function targetIsEmpty(sql: SqliteDb): boolean {
  return TABLES.every((t) => sql.get(`SELECT EXISTS (SELECT 1 FROM ${t}) AS x`)?.x === 0);
}

function describeTarget(sql: SqliteDb): string {
  const n = (t: string) => Number(sql.get(`SELECT COUNT(*) AS n FROM ${t}`)?.n ?? 0);
  return `${n("runs")} runs, ${n("ledger")} ledger records, ${n("commands")} commands`;
}

/** Replaces the target's contents with the source (caller holds the write transaction). */
function importAll(sql: SqliteDb, src: Source, progress?: MigrateOptions["progress"]): void {
  for (const table of TABLES) sql.run(`DELETE FROM ${table}`);
  for (const id of [...src.runs.keys()].sort()) upsertRun(sql, src.runs.get(id)!);
  src.ledgerIds.forEach((id, i) => {
    const records = readLedger(src, id);
    if (records.length > 0) insertLedger(sql, id, records);
    progress?.(i + 1, src.ledgerIds.length);
  });
  const insert = sql.db.prepare(
    "INSERT INTO commands(seq, command_id, run_id, type, payload_json, ts, client_id) VALUES (?,?,?,?,?,?,?)",
  );
  for (const c of src.commands) {
    insert.run(c.seq, c.command_id, c.run_id, c.type, JSON.stringify(c.payload), c.ts, c.client_id);
  }
  const outcome = sql.db.prepare(
    `INSERT INTO command_outcomes(command_id, seq, run_id, type, status, error, applied_at, consumer_id)
     VALUES (?,?,?,?,?,?,?,?)`,
  );
  for (const o of src.outcomes) {
    outcome.run(o.command_id, o.seq, o.run_id, o.type, o.status, o.error, o.applied_at, o.consumer);
  }
  for (const [consumer, cursor] of src.cursors) saveCursor(sql, consumer, cursor, nowIso());
  sql.run("DELETE FROM artifacts");
  importMetaFiles(sql, src.artifacts);
}

/** Counts per run, source against target; throws on the first mismatch. */
function verify(sql: SqliteDb, src: Source): MigrateRunCount[] {
  const ids = [...new Set([...src.runs.keys(), ...src.ledgerIds])].sort();
  const counts = ids.map((id) => {
    const source = src.ledgerLengths.get(id) ?? readLedger(src, id).length;
    const rows = Number(sql.get("SELECT COUNT(*) AS n FROM ledger WHERE run_id = ?", id)?.n ?? 0);
    const head = Number(sql.get("SELECT last_seq FROM ledger_heads WHERE run_id = ?", id)?.last_seq ?? 0);
    if (rows !== source || head !== source) {
      throw new MigrateError(
        `verification failed for run ${id}: ${source} ledger records in the source, ${rows} rows (head ${head}) in the DB`,
      );
    }
    const run = sql.get("SELECT status FROM runs WHERE run_id = ?", id);
    if (src.runs.has(id) && run === undefined) {
      throw new MigrateError(`verification failed: run ${id} missing in the DB`);
    }
    return {
      run_id: id,
      status: run ? String(run.status) : null,
      ledger_source: source,
      ledger_target: rows,
    };
  });
  const total = (table: string) => Number(sql.get(`SELECT COUNT(*) AS n FROM ${table}`)?.n ?? 0);
  for (const [table, expected] of [["runs", src.runs.size], ["commands", src.commands.length]] as const) {
    if (total(table) !== expected) {
      throw new MigrateError(
        `verification failed: ${total(table)} ${table} in the DB, ${expected} in the source`,
      );
    }
  }
  return counts;
}

export async function migrateFileToSqlite(options: MigrateOptions): Promise<MigrateReport> {
  const log = options.log ?? (() => {});
  const dataDir = resolve(options.dataDir);
  const info = await Deno.stat(dataDir).catch(() => null);
  if (!info?.isDirectory) throw new MigrateError(`data dir ${dataDir} does not exist or is not a directory`);
  const dbPath = await resolveDbPath(dataDir, options.dbPath);
  const src = readSource(dataDir);
  src.artifacts = await readMetaFiles(new ArtifactPaths(dataDir));
  for (const line of src.skipped) log(`skipped ${line}`);
  const sql = new SqliteDb(dbPath);
  try {
    const empty = targetIsEmpty(sql);
    // An up-to-date target is left alone (the report says `changed: false`).
    const changed = empty || !targetMatches(sql, src);
    if (changed) {
      if (!empty && !options.force) {
        throw new MigrateError(
          `target DB ${dbPath} is not empty (${describeTarget(sql)}) and differs from the source; ` +
            `pass --force to replace its contents`,
        );
      }
      if (!empty) log(`--force: replacing the contents of ${dbPath}`);
      sql.write(() => importAll(sql, src, options.progress));
    } else {
      // Runs, ledgers and commands are up to date: only artifact metadata the DB lacks is added.
      sql.write(() => importMetaFiles(sql, src.artifacts));
    }
    const runs = verify(sql, src);
    return {
      dataDir,
      dbPath,
      changed,
      runs,
      totals: {
        runs: src.runs.size,
        ledger_records: runs.reduce((n, r) => n + r.ledger_target, 0),
        commands: src.commands.length,
        outcomes: src.outcomes.length,
        artifacts: src.artifacts.length,
      },
      cursors: Object.fromEntries(src.cursors),
      skipped: src.skipped,
    };
  } finally {
    sql.close();
  }
}
