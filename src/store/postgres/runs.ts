/** PostgreSQL run store: the upstream columns (plus wait_key) next to the run JSON, one upsert per save. */
import type { RunState, RunStatus } from "../../runtime/types.ts";
import type { RunPage, RunQuery, RunStore, WakeBus } from "../types.ts";
import { parseRunRow, parseRunRows, runListSql, runPageFromRows } from "../sql_rows.ts";
import { assertId, assertRun, summarize } from "../validate.ts";
import type { PgDb, Sql, TxSql } from "./db.ts";
import { notify, notifyEach } from "./notify.ts";
import { fenceFor, type LeaseFence } from "../fence.ts";
import { RUNS_CLAIMABLE, runTopic } from "../wake.ts";
import { LeaseLostError } from "../errors.ts";
import { fenceGuard } from "./leases.ts";
import { isPaused } from "../../runner/run_once.ts";
import type { JustSaved } from "./just_saved.ts";

/**
 * The upsert of one run as a statement fragment (`INSERT ... RETURNING 1`), for a `WITH` clause. With
 * a `fence`, it writes (and returns its row) only while that lease is unchanged.
 */
export function runUpsert(
  tx: Sql | TxSql,
  run: RunState,
  fence: LeaseFence | null,
  json = JSON.stringify(run),
): ReturnType<Sql> {
  const s = summarize(run);
  return tx`INSERT INTO runs(run_id, workflow_id, status, wait_reason, wait_until, wait_key, parent_run_id, actor_id,
      session_id, created_at, updated_at, run_json, paused)
    SELECT ${s.run_id}, ${s.workflow_id}, ${s.status}, ${s.wait_reason},
      ${s.wait_reason === "until" ? s.wait_until : null}, ${s.wait_key}, ${s.parent_run_id}, ${s.actor_id},
      ${s.session_id}, ${s.created_at || null}, ${s.updated_at}, ${json}, ${isPaused(run)} ${
    fenceGuard(tx, fence)
  }
    ON CONFLICT (run_id) DO UPDATE SET workflow_id = excluded.workflow_id, status = excluded.status,
      wait_reason = excluded.wait_reason, wait_until = excluded.wait_until, wait_key = excluded.wait_key,
      parent_run_id = excluded.parent_run_id, actor_id = excluded.actor_id, session_id = excluded.session_id,
      created_at = COALESCE(runs.created_at, excluded.created_at), updated_at = excluded.updated_at,
      run_json = excluded.run_json, paused = excluded.paused RETURNING 1`;
}

/** The wake-up topics of a run save: a save outside a runner's lease is also work others may claim. */
export function saveTopics(runId: string, fence: LeaseFence | null): string[] {
  return fence ? [runTopic(runId)] : [runTopic(runId), RUNS_CLAIMABLE];
}

/**
 * Upserts one run (inside the caller's transaction for `migrate`); `notifyTopics` also go out as wake-ups.
 * With a `fence`, the write happens only while that lease is unchanged; resolves whether it wrote.
 */
export async function upsertRun(
  tx: Sql | TxSql,
  run: RunState,
  notifyTopics: string[] = [],
  fence: LeaseFence | null = null,
  json = JSON.stringify(run),
): Promise<boolean> {
  const rows = await tx`
    WITH up AS (${runUpsert(tx, run, fence, json)})
    SELECT 1 FROM up LEFT JOIN LATERAL (${notifyEach(tx, notifyTopics)}) wake ON true`;
  return rows.length > 0;
}

export class PgRunStore implements RunStore {
  constructor(
    private readonly db: PgDb,
    private readonly wake: WakeBus,
    private readonly justSaved: JustSaved,
  ) {}

  async save(run: RunState): Promise<void> {
    assertRun(run);
    const fence = fenceFor(run.run_id);
    this.justSaved.forget(fence);
    // One statement, one round trip; under a lease fence it also proves the lease is still ours.
    const topics = saveTopics(run.run_id, fence);
    const json = JSON.stringify(run);
    if (!(await this.db.query((sql) => upsertRun(sql, run, topics, fence, json)))) {
      throw new LeaseLostError(run.run_id);
    }
    this.justSaved.remember(fence, json);
    topics.forEach((topic) => this.wake.publish(topic));
  }

  async load(runId: string): Promise<RunState | null> {
    assertId("run_id", runId);
    const saved = this.justSaved.take(fenceFor(runId));
    if (saved !== undefined) return parseRunRow({ run_id: runId, run_json: saved });
    const rows = await this.db.query((sql) => sql`SELECT run_id, run_json FROM runs WHERE run_id = ${runId}`);
    return rows.length ? parseRunRow(rows[0]) : null;
  }

  async status(runId: string): Promise<RunStatus | null> {
    assertId("run_id", runId);
    const rows = await this.db.query((sql) => sql`SELECT status FROM runs WHERE run_id = ${runId}`);
    return rows.length ? rows[0].status as RunStatus : null;
  }

  async list(query: RunQuery = {}): Promise<RunPage> {
    const { text, params, limit } = runListSql(query, (n) => `$${n}`, "wait_key");
    return runPageFromRows(await this.db.query((sql) => sql.unsafe(text, params)), limit);
  }

  /** Runners on PostgreSQL claim with `LeaseStore.claimRunnable`; this serves callers without leases. */
  async listRunnable(nowIso: string, limit: number, exclude: ReadonlySet<string>): Promise<string[]> {
    const rows = await this.db.query((sql) =>
      sql`SELECT run_id, CASE WHEN status = 'running' THEN updated_at ELSE wait_until END AS ready_at FROM runs
        WHERE actor_id = 'gateway' AND NOT paused AND NOT (run_id = ANY(${[...exclude]}::text[]))
          AND (status = 'running' OR (status = 'waiting' AND wait_reason = 'until' AND wait_until <= ${nowIso}))
        ORDER BY ready_at, run_id LIMIT ${limit}`
    );
    return rows.map((row) => String(row.run_id));
  }

  async nextWaitUntil(): Promise<string | null> {
    const rows = await this.db.query((sql) =>
      sql`SELECT MIN(wait_until) AS next FROM runs
        WHERE status = 'waiting' AND wait_reason = 'until' AND wait_until IS NOT NULL`
    );
    return (rows[0]?.next as string | null) ?? null;
  }

  async listChildren(parentRunId: string): Promise<RunState[]> {
    assertId("parent_run_id", parentRunId);
    const rows = await this.db.query((sql) =>
      sql`SELECT run_id, run_json FROM runs WHERE parent_run_id = ${parentRunId}
        ORDER BY created_at, run_id`
    );
    return parseRunRows(rows);
  }

  async delete(runId: string): Promise<boolean> {
    assertId("run_id", runId);
    this.justSaved.forget(fenceFor(runId));
    const removed = await this.db.tx(async (tx) => {
      const result = await tx`DELETE FROM runs WHERE run_id = ${runId}`;
      if (result.count > 0) await notify(tx, runTopic(runId));
      return result.count > 0;
    });
    if (removed) this.wake.publish(runTopic(runId));
    return removed;
  }
}
