/**
 * The PostgreSQL schema, versioned by the gateway: numbered migrations recorded in
 * `gateway_schema_migrations`, applied at open under a session advisory lock (so several nodes
 * starting at once apply each migration exactly once). A database whose recorded version is newer
 * than this binary knows is refused: an old binary must not write into a newer layout.
 * JSON documents are `text` (byte-for-byte what was written, like the SQLite backend).
 */
import type { Sql } from "./db.ts";

/** Arbitrary constant naming the gateway's migration lock among advisory locks. */
const MIGRATION_LOCK = 7_261_024_014;

export const MIGRATIONS: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: "runs, ledger, commands, outcomes, cursors, run leases",
    sql: `
CREATE TABLE runs (
  run_id text PRIMARY KEY, workflow_id text NOT NULL, status text NOT NULL, wait_reason text,
  wait_until text, wait_key text, parent_run_id text, actor_id text, session_id text, created_at text,
  updated_at text NOT NULL, run_json text NOT NULL
);
CREATE INDEX runs_status_updated ON runs(status, updated_at DESC, run_id DESC);
CREATE INDEX runs_updated ON runs(updated_at DESC, run_id DESC);
CREATE INDEX runs_workflow ON runs(workflow_id, updated_at DESC);
CREATE INDEX runs_parent ON runs(parent_run_id);
CREATE INDEX runs_wait_key ON runs(wait_key) WHERE wait_key IS NOT NULL;
CREATE INDEX runs_due ON runs(wait_until) WHERE status = 'waiting' AND wait_reason = 'until';
CREATE TABLE ledger (
  run_id text NOT NULL, seq bigint NOT NULL, record_json text NOT NULL, PRIMARY KEY (run_id, seq)
);
CREATE TABLE ledger_heads (run_id text PRIMARY KEY, last_seq bigint NOT NULL);
CREATE TABLE commands (
  seq bigint PRIMARY KEY, command_id text NOT NULL UNIQUE, run_id text NOT NULL, type text NOT NULL,
  payload_json text NOT NULL, ts text NOT NULL, client_id text
);
CREATE INDEX commands_run ON commands(run_id);
CREATE TABLE command_cursors (consumer_id text PRIMARY KEY, cursor bigint NOT NULL, updated_at text NOT NULL);
CREATE TABLE command_outcomes (
  command_id text PRIMARY KEY, seq bigint NOT NULL, run_id text NOT NULL, type text NOT NULL,
  status text NOT NULL, error text, applied_at text NOT NULL, consumer_id text NOT NULL
);
CREATE TABLE run_leases (run_id text PRIMARY KEY, owner text NOT NULL, expires_at timestamptz NOT NULL);
CREATE INDEX run_leases_owner ON run_leases(owner);
`,
  },
  {
    version: 2,
    name: "run lease fencing tokens",
    sql: `
CREATE SEQUENCE run_lease_tokens;
ALTER TABLE run_leases ADD COLUMN token bigint NOT NULL DEFAULT 0;
-- False for a paused run and for a run document that is not valid JSON (skipped, as listings do).
CREATE FUNCTION gateway_run_tickable(doc text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN (doc::jsonb #> '{vars,_runtime,control,paused}') IS DISTINCT FROM 'true'::jsonb;
EXCEPTION WHEN others THEN
  RETURN false;
END $$;
`,
  },
  {
    version: 3,
    name: "paused flag and runnable index for claims; runner heartbeats",
    sql: `
-- Claims filter on a column and walk a partial index instead of parsing every running run's JSON.
ALTER TABLE runs ADD COLUMN paused boolean NOT NULL DEFAULT false;
UPDATE runs SET paused = true WHERE status IN ('running', 'waiting') AND NOT gateway_run_tickable(run_json);
CREATE INDEX runs_runnable ON runs(updated_at, run_id) WHERE status = 'running' AND actor_id = 'gateway' AND NOT paused;
-- One row per runner process, beaten every few seconds: what every API node's readiness reads.
CREATE TABLE runners (
  runner_id text PRIMARY KEY, host text NOT NULL, pid integer NOT NULL, started_at timestamptz NOT NULL,
  last_seen timestamptz NOT NULL
);
`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export class SchemaTooNewError extends Error {
  constructor(found: number) {
    super(
      `Cannot open the PostgreSQL store: its schema is version ${found}, newer than this gateway knows ` +
        `(${SCHEMA_VERSION}); upgrade the gateway binary (downgrades are not supported)`,
    );
    this.name = "SchemaTooNewError";
  }
}

/** Applies the missing migrations; returns the versions applied now. */
export async function migrateSchema(sql: Sql): Promise<number[]> {
  return await sql.begin(async (tx) => {
    // Transaction-scoped: released at COMMIT/ROLLBACK, even if this process dies.
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx`CREATE TABLE IF NOT EXISTS gateway_schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`;
    const [{ v }] = await tx`SELECT COALESCE(MAX(version), 0)::int AS v FROM gateway_schema_migrations`;
    const current = Number(v);
    if (current > SCHEMA_VERSION) throw new SchemaTooNewError(current);
    const applied: number[] = [];
    for (const m of MIGRATIONS.filter((m) => m.version > current)) {
      await tx.unsafe(m.sql);
      await tx`INSERT INTO gateway_schema_migrations(version, name) VALUES (${m.version}, ${m.name})`;
      applied.push(m.version);
    }
    return applied;
  }) as number[];
}
