/** SQLite run store: upsert of the upstream columns + run_json; wait_index kept in the same transaction. */
import type { RunState } from "../../runtime/types.ts";
import type { RunPage, RunQuery, RunStore, StoreEntryError, WakeBus } from "../types.ts";
import { StoreCorruptError } from "../types.ts";
import {
  assertId,
  assertRun,
  decodeRunCursor,
  encodeRunCursor,
  isWaitingUntil,
  queryLimit,
  summarize,
} from "../validate.ts";
import { type Row, type SqliteDb, task } from "./db.ts";

type Param = string | number | null;

function parseRunRow(row: Row): RunState {
  try {
    const run = JSON.parse(String(row.run_json));
    if (run === null || typeof run !== "object" || Array.isArray(run)) throw new Error("not a JSON object");
    return run as RunState;
  } catch (err) {
    throw new StoreCorruptError(`runs:${row.run_id}`, err instanceof Error ? err.message : String(err));
  }
}

/** Parsed rows; a corrupt row is skipped (and reported in `errors` when given), as the file backend does. */
function parseRows(rows: Row[], errors: StoreEntryError[] = []): RunState[] {
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

/** Upserts one run and its wait_index row (caller holds a write transaction). */
export function upsertRun(sql: SqliteDb, run: RunState): void {
  const s = summarize(run);
  sql.run(
    `INSERT INTO runs(run_id, workflow_id, status, wait_reason, wait_until, parent_run_id, actor_id, session_id,
       created_at, updated_at, run_json) VALUES (?,?,?,?,?,?,?,?,?,?,?)
     ON CONFLICT(run_id) DO UPDATE SET workflow_id=excluded.workflow_id, status=excluded.status,
       wait_reason=excluded.wait_reason, wait_until=excluded.wait_until, parent_run_id=excluded.parent_run_id,
       actor_id=excluded.actor_id, session_id=excluded.session_id,
       created_at=COALESCE(runs.created_at, excluded.created_at), updated_at=excluded.updated_at,
       run_json=excluded.run_json`,
    s.run_id,
    s.workflow_id,
    s.status,
    s.wait_reason,
    s.wait_reason === "until" ? s.wait_until : null,
    s.parent_run_id,
    s.actor_id,
    s.session_id,
    s.created_at || null,
    s.updated_at, // never NULL: NULL would break the (updated_at, run_id) paging comparisons
    JSON.stringify(run),
  );
  if (isWaitingUntil(s)) {
    sql.run(
      `INSERT INTO wait_index(run_id, next_due_iso, updated_at_iso, status) VALUES (?,?,?,?)
       ON CONFLICT(run_id) DO UPDATE SET next_due_iso=excluded.next_due_iso,
         updated_at_iso=excluded.updated_at_iso, status=excluded.status`,
      s.run_id,
      s.wait_until,
      s.updated_at,
      s.status,
    );
  } else {
    sql.run("DELETE FROM wait_index WHERE run_id = ?", s.run_id);
  }
}

export class SqliteRunStore implements RunStore {
  constructor(private readonly sql: SqliteDb, private readonly wake: WakeBus) {}

  save(run: RunState): Promise<void> {
    return task(() => {
      assertRun(run);
      this.sql.write(() => upsertRun(this.sql, run));
      this.wake.publish("runs");
      return;
    });
  }

  load(runId: string): Promise<RunState | null> {
    return task(() => {
      assertId("run_id", runId);
      const row = this.sql.get("SELECT run_id, run_json FROM runs WHERE run_id = ?", runId);
      return row ? parseRunRow(row) : null;
    });
  }

  list(query: RunQuery = {}): Promise<RunPage> {
    return task(() => {
      const limit = queryLimit(query);
      const where: string[] = [];
      const params: Param[] = [];
      const add = (clause: string, ...values: Param[]) => {
        where.push(clause);
        params.push(...values);
      };
      if (query.status !== undefined) {
        const statuses = Array.isArray(query.status) ? query.status : [query.status];
        add(`status IN (${statuses.map(() => "?").join(",") || "NULL"})`, ...statuses);
      }
      if (query.workflowId !== undefined) add("workflow_id = ?", query.workflowId);
      if (query.parentRunId !== undefined) add("parent_run_id = ?", query.parentRunId);
      if (query.sessionId !== undefined) add("session_id = ?", query.sessionId);
      if (query.actorId !== undefined) add("actor_id = ?", query.actorId);
      if (query.waitReason !== undefined) add("wait_reason = ?", query.waitReason);
      if (query.waitKey !== undefined) add("json_extract(run_json, '$.waiting.wait_key') = ?", query.waitKey);
      if (query.createdAfter !== undefined) add("created_at >= ?", query.createdAfter);
      if (query.createdBefore !== undefined) add("created_at <= ?", query.createdBefore);
      if (query.cursor) {
        const c = decodeRunCursor(query.cursor);
        add("(updated_at < ? OR (updated_at = ? AND run_id < ?))", c.updatedAt, c.updatedAt, c.runId);
      }
      const rows = this.sql.all(
        `SELECT run_id, updated_at, run_json FROM runs ${where.length ? "WHERE " + where.join(" AND ") : ""}
         ORDER BY updated_at DESC, run_id DESC LIMIT ?`,
        ...params,
        limit + 1,
      );
      const page = rows.slice(0, limit);
      const errors: StoreEntryError[] = [];
      const items = parseRows(page, errors);
      const last = page[page.length - 1];
      const next_cursor = rows.length > limit
        ? encodeRunCursor({ updated_at: String(last.updated_at ?? ""), run_id: String(last.run_id) })
        : null;
      return errors.length ? { items, next_cursor, errors } : { items, next_cursor };
    });
  }

  listDueWaitUntil(nowIso: string, limit: number): Promise<RunState[]> {
    return task(() => {
      const rows = this.sql.all(
        `SELECT r.run_id, r.run_json FROM wait_index w JOIN runs r ON r.run_id = w.run_id
         WHERE w.next_due_iso <= ? AND r.status = 'waiting' ORDER BY w.next_due_iso, w.run_id LIMIT ?`,
        nowIso,
        limit,
      );
      return parseRows(rows);
    });
  }

  nextWaitUntil(): Promise<string | null> {
    return task(() => {
      const row = this.sql.get("SELECT MIN(next_due_iso) AS next FROM wait_index WHERE status = 'waiting'");
      return (row?.next as string | null) ?? null;
    });
  }

  listChildren(parentRunId: string): Promise<RunState[]> {
    return task(() => {
      assertId("parent_run_id", parentRunId);
      const rows = this.sql.all(
        "SELECT run_id, run_json FROM runs WHERE parent_run_id = ? ORDER BY created_at, run_id",
        parentRunId,
      );
      return parseRows(rows);
    });
  }

  delete(runId: string): Promise<boolean> {
    return task(() => {
      assertId("run_id", runId);
      const removed = this.sql.write(() => {
        this.sql.run("DELETE FROM wait_index WHERE run_id = ?", runId);
        return this.sql.run("DELETE FROM runs WHERE run_id = ?", runId).changes > 0;
      });
      if (removed) this.wake.publish("runs");
      return removed;
    });
  }
}
