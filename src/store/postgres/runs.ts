/** PostgreSQL run store: the upstream columns (plus wait_key) next to the run JSON, one upsert per save. */
import type { RunState } from "../../runtime/types.ts";
import type { RunPage, RunQuery, RunStore, StoreEntryError, WakeBus } from "../types.ts";
import { StoreCorruptError } from "../types.ts";
import { assertId, assertRun, decodeRunCursor, encodeRunCursor, queryLimit, summarize } from "../validate.ts";
import type { PgDb, Row, TxSql } from "./db.ts";
import { notify } from "./notify.ts";

function parseRunRow(row: Row): RunState {
  try {
    const run = JSON.parse(String(row.run_json));
    if (run === null || typeof run !== "object" || Array.isArray(run)) throw new Error("not a JSON object");
    return run as RunState;
  } catch (err) {
    throw new StoreCorruptError(`runs:${row.run_id}`, err instanceof Error ? err.message : String(err));
  }
}

function parseRows(rows: readonly Row[], errors: StoreEntryError[] = []): RunState[] {
  const runs: RunState[] = [];
  for (const row of rows) {
    try {
      runs.push(parseRunRow(row));
    } catch (err) {
      errors.push({ location: `runs:${row.run_id}`, error: (err as Error).message });
    }
  }
  return runs;
}

/** Upserts one run inside the caller's transaction (also used by `migrate`). */
export async function upsertRun(tx: TxSql, run: RunState): Promise<void> {
  const s = summarize(run);
  await tx`
    INSERT INTO runs(run_id, workflow_id, status, wait_reason, wait_until, wait_key, parent_run_id, actor_id,
      session_id, created_at, updated_at, run_json)
    VALUES (${s.run_id}, ${s.workflow_id}, ${s.status}, ${s.wait_reason},
      ${s.wait_reason === "until" ? s.wait_until : null}, ${s.wait_key}, ${s.parent_run_id}, ${s.actor_id},
      ${s.session_id}, ${s.created_at || null}, ${s.updated_at}, ${JSON.stringify(run)})
    ON CONFLICT (run_id) DO UPDATE SET workflow_id = excluded.workflow_id, status = excluded.status,
      wait_reason = excluded.wait_reason, wait_until = excluded.wait_until, wait_key = excluded.wait_key,
      parent_run_id = excluded.parent_run_id, actor_id = excluded.actor_id, session_id = excluded.session_id,
      created_at = COALESCE(runs.created_at, excluded.created_at), updated_at = excluded.updated_at,
      run_json = excluded.run_json`;
}

export class PgRunStore implements RunStore {
  constructor(private readonly db: PgDb, private readonly wake: WakeBus) {}

  async save(run: RunState): Promise<void> {
    assertRun(run);
    await this.db.tx(async (tx) => {
      await upsertRun(tx, run);
      await notify(tx, "runs");
    });
    this.wake.publish("runs");
  }

  async load(runId: string): Promise<RunState | null> {
    assertId("run_id", runId);
    const rows = await this.db.query((sql) => sql`SELECT run_id, run_json FROM runs WHERE run_id = ${runId}`);
    return rows.length ? parseRunRow(rows[0]) : null;
  }

  async list(query: RunQuery = {}): Promise<RunPage> {
    const limit = queryLimit(query);
    const where: string[] = [];
    const params: (string | number | string[])[] = [];
    const add = (clause: string, value: string | string[]) => {
      params.push(value);
      where.push(clause.replaceAll("?", `$${params.length}`));
    };
    if (query.status !== undefined) {
      add("status = ANY(?)", Array.isArray(query.status) ? query.status : [query.status]);
    }
    if (query.workflowId !== undefined) add("workflow_id = ?", query.workflowId);
    if (query.parentRunId !== undefined) add("parent_run_id = ?", query.parentRunId);
    if (query.sessionId !== undefined) add("session_id = ?", query.sessionId);
    if (query.actorId !== undefined) add("actor_id = ?", query.actorId);
    if (query.waitReason !== undefined) add("wait_reason = ?", query.waitReason);
    if (query.waitKey !== undefined) add("wait_key = ?", query.waitKey);
    if (query.createdAfter !== undefined) add("created_at >= ?", query.createdAfter);
    if (query.createdBefore !== undefined) add("created_at <= ?", query.createdBefore);
    if (query.cursor) {
      const c = decodeRunCursor(query.cursor);
      params.push(c.updatedAt, c.runId);
      const [u, r] = [params.length - 1, params.length];
      where.push(`(updated_at < $${u} OR (updated_at = $${u} AND run_id < $${r}))`);
    }
    params.push(limit + 1);
    const text = `SELECT run_id, updated_at, run_json FROM runs ${
      where.length ? "WHERE " + where.join(" AND ") : ""
    }
      ORDER BY updated_at DESC, run_id DESC LIMIT $${params.length}`;
    const rows = await this.db.query((sql) => sql.unsafe(text, params));
    const page = rows.slice(0, limit);
    const errors: StoreEntryError[] = [];
    const items = parseRows(page, errors);
    const last = page[page.length - 1];
    const next_cursor = rows.length > limit
      ? encodeRunCursor({ updated_at: String(last.updated_at ?? ""), run_id: String(last.run_id) })
      : null;
    return errors.length ? { items, next_cursor, errors } : { items, next_cursor };
  }

  async listDueWaitUntil(nowIso: string, limit: number): Promise<RunState[]> {
    const rows = await this.db.query((sql) =>
      sql`SELECT run_id, run_json FROM runs
        WHERE status = 'waiting' AND wait_reason = 'until' AND wait_until IS NOT NULL AND wait_until <= ${nowIso}
        ORDER BY wait_until, run_id LIMIT ${limit}`
    );
    return parseRows(rows);
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
    return parseRows(rows);
  }

  async delete(runId: string): Promise<boolean> {
    assertId("run_id", runId);
    const removed = await this.db.tx(async (tx) => {
      const result = await tx`DELETE FROM runs WHERE run_id = ${runId}`;
      if (result.count > 0) await notify(tx, "runs");
      return result.count > 0;
    });
    if (removed) this.wake.publish("runs");
    return removed;
  }
}
