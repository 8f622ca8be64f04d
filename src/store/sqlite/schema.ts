/**
 * The upstream table layout (gateway-contract §6.2) plus `command_outcomes` (our addition: what the
 * runner did with each command), versioned with `PRAGMA user_version`: MIGRATIONS[i] takes the
 * schema from version i to i + 1. A schema change is a new entry at the end, never an edit.
 */
import type { DatabaseSync } from "node:sqlite";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  run_id TEXT PRIMARY KEY, workflow_id TEXT NOT NULL, status TEXT NOT NULL, wait_reason TEXT,
  wait_until TEXT, parent_run_id TEXT, actor_id TEXT, session_id TEXT, created_at TEXT,
  updated_at TEXT, run_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_runs_status_updated ON runs(status, updated_at DESC);
CREATE INDEX IF NOT EXISTS idx_runs_workflow_updated ON runs(workflow_id, updated_at DESC);
CREATE INDEX IF NOT EXISTS idx_runs_parent ON runs(parent_run_id);
CREATE INDEX IF NOT EXISTS idx_runs_waiting ON runs(status, wait_reason, wait_until);
CREATE INDEX IF NOT EXISTS idx_runs_updated ON runs(updated_at DESC, run_id DESC);
CREATE TABLE IF NOT EXISTS wait_index (
  run_id TEXT PRIMARY KEY, next_due_iso TEXT NOT NULL, updated_at_iso TEXT NOT NULL, status TEXT
);
CREATE INDEX IF NOT EXISTS idx_wait_index_next_due ON wait_index(next_due_iso);
CREATE TABLE IF NOT EXISTS ledger (
  run_id TEXT NOT NULL, seq INTEGER NOT NULL, record_json TEXT NOT NULL, PRIMARY KEY(run_id, seq)
);
CREATE INDEX IF NOT EXISTS idx_ledger_run_seq ON ledger(run_id, seq);
CREATE TABLE IF NOT EXISTS ledger_heads (run_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS commands (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, command_id TEXT NOT NULL UNIQUE, run_id TEXT NOT NULL,
  type TEXT NOT NULL, payload_json TEXT NOT NULL, ts TEXT NOT NULL, client_id TEXT
);
CREATE INDEX IF NOT EXISTS idx_commands_run_id ON commands(run_id);
CREATE TABLE IF NOT EXISTS command_cursors (
  consumer_id TEXT PRIMARY KEY, cursor INTEGER NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS command_outcomes (
  command_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, run_id TEXT NOT NULL, type TEXT NOT NULL,
  status TEXT NOT NULL, error TEXT, applied_at TEXT NOT NULL, consumer_id TEXT NOT NULL
);
`;

/** Upgrade safety: heads back-filled from MAX(seq) per run (never lowered). */
function backfillHeads(db: DatabaseSync): void {
  db.exec(`
    INSERT INTO ledger_heads(run_id, last_seq)
      SELECT run_id, MAX(seq) FROM ledger WHERE true GROUP BY run_id
      ON CONFLICT(run_id) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq)
      WHERE excluded.last_seq > ledger_heads.last_seq
  `);
}

/**
 * Artifact metadata (our addition; blobs stay content-addressed files): written in the same
 * transaction as the run it belongs to. `artifact_imports` records that the `.meta` files of the
 * data dir (written before this table existed) were copied in.
 */
const ARTIFACTS = `
CREATE TABLE IF NOT EXISTS artifacts (
  artifact_id TEXT PRIMARY KEY, run_id TEXT, blob_id TEXT NOT NULL, content_type TEXT NOT NULL,
  size_bytes INTEGER NOT NULL, created_at TEXT NOT NULL, filename TEXT, tags_json TEXT NOT NULL,
  metadata_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_artifacts_run ON artifacts(run_id, created_at DESC, artifact_id);
CREATE INDEX IF NOT EXISTS idx_artifacts_blob ON artifacts(blob_id);
CREATE TABLE IF NOT EXISTS artifact_imports (source TEXT PRIMARY KEY, imported_at TEXT NOT NULL);
`;

export const MIGRATIONS: ((db: DatabaseSync) => void)[] = [
  // 1: the tables above. Idempotent, so DBs made before versioning (user_version 0) and upstream
  // DBs take it too.
  (db) => db.exec(SCHEMA),
  // 2: artifact metadata in the DB.
  (db) => db.exec(ARTIFACTS),
  // 3: paused runs in a table of their own (the upstream `runs` layout stays as it is), and a partial
  // index of the running runs in the runner's FIFO order, so its scheduling query reads neither run
  // documents nor finished runs. A document that is not valid JSON counts as unpaused (listings skip
  // it; the runner's load reports it).
  (db) =>
    db.exec(`
    CREATE TABLE paused_runs (run_id TEXT PRIMARY KEY);
    INSERT INTO paused_runs(run_id) SELECT run_id FROM runs
      WHERE status IN ('running', 'waiting') AND json_valid(run_json)
        AND json_extract(run_json, '$.vars._runtime.control.paused') IS 1;
    CREATE INDEX idx_runs_runnable ON runs(updated_at, run_id) WHERE status = 'running' AND actor_id = 'gateway';
  `),
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the DB to SCHEMA_VERSION, then back-fills ledger heads (on every open: an upstream writer
 * sharing the DB keeps none). Call inside a write transaction. Refuses a DB from a newer build.
 */
export function migrateSchema(db: DatabaseSync, path: string): void {
  const current = Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
  if (current > SCHEMA_VERSION) {
    throw new Error(
      `Cannot open ${path}: its schema version ${current} is newer than this gateway's (${SCHEMA_VERSION}); ` +
        "run the newer gateway, or restore a backup taken before the upgrade",
    );
  }
  for (let version = current; version < SCHEMA_VERSION; version++) {
    MIGRATIONS[version](db);
    db.exec(`PRAGMA user_version = ${version + 1}`);
  }
  backfillHeads(db);
}
