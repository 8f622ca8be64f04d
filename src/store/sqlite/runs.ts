/** SQLite run store: upsert of the upstream columns + run_json; wait_index kept in the same transaction. */
import type { RunState, RunStatus } from "../../runtime/types.ts";
import type { RunPage, RunQuery, RunStore, WakeBus } from "../types.ts";
import { parseRunRow, parseRunRows, runListSql, runPageFromRows } from "../sql_rows.ts";
import { assertId, assertRun, isWaitingUntil, oldestReady, type ReadyRun, summarize } from "../validate.ts";
import { type SqliteDb, task } from "./db.ts";
import { runTopic } from "../wake.ts";

/** Upserts one run, its wait_index row and its paused_runs row (caller holds a write transaction). */
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
  if (s.paused) sql.run("INSERT INTO paused_runs(run_id) VALUES (?) ON CONFLICT DO NOTHING", s.run_id);
  else sql.run("DELETE FROM paused_runs WHERE run_id = ?", s.run_id);
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

  async save(run: RunState): Promise<void> {
    await task(() => assertRun(run));
    // Group commit: saves from concurrent requests and ticks share one transaction (one fsync).
    await this.sql.writeGrouped(() => upsertRun(this.sql, run));
    this.wake.publish(runTopic(run.run_id));
  }

  load(runId: string): Promise<RunState | null> {
    return task(() => {
      assertId("run_id", runId);
      const row = this.sql.get("SELECT run_id, run_json FROM runs WHERE run_id = ?", runId);
      return row ? parseRunRow(row) : null;
    });
  }

  status(runId: string): Promise<RunStatus | null> {
    return task(() => {
      assertId("run_id", runId);
      const row = this.sql.get("SELECT status FROM runs WHERE run_id = ?", runId);
      return row ? row.status as RunStatus : null;
    });
  }

  list(query: RunQuery = {}): Promise<RunPage> {
    return task(() => {
      const { text, params, limit } = runListSql(
        query,
        () => "?",
        "json_extract(run_json, '$.waiting.wait_key')",
      );
      return runPageFromRows(this.sql.all(text, ...params), limit);
    });
  }

  listRunnable(nowIso: string, limit: number, exclude: ReadonlySet<string>): Promise<string[]> {
    return task(() => {
      // Each part walks its own index in its order (running runs: the partial index; due waits: by due
      // time, before the join) and stops at `limit`; the merge keeps FIFO across both.
      const skip = JSON.stringify([...exclude]);
      const running = this.sql.all(
        `SELECT run_id, updated_at AS ready_at FROM runs INDEXED BY idx_runs_runnable
         WHERE status = 'running' AND actor_id = 'gateway'
           AND run_id NOT IN (SELECT run_id FROM paused_runs) AND run_id NOT IN (SELECT value FROM json_each(?))
         ORDER BY updated_at, run_id LIMIT ?`,
        skip,
        limit,
      );
      const due = this.sql.all(
        `SELECT w.run_id, w.next_due_iso AS ready_at FROM wait_index w CROSS JOIN runs r ON r.run_id = w.run_id
         WHERE w.next_due_iso <= ? AND r.status = 'waiting' AND r.actor_id = 'gateway'
           AND w.run_id NOT IN (SELECT run_id FROM paused_runs) AND w.run_id NOT IN (SELECT value FROM json_each(?))
         ORDER BY w.next_due_iso, w.run_id LIMIT ?`,
        nowIso,
        skip,
        limit,
      );
      return oldestReady([...running, ...due] as unknown as ReadyRun[], limit);
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
      return parseRunRows(rows);
    });
  }

  delete(runId: string): Promise<boolean> {
    return task(() => {
      assertId("run_id", runId);
      const removed = this.sql.write(() => {
        this.sql.run("DELETE FROM wait_index WHERE run_id = ?", runId);
        this.sql.run("DELETE FROM paused_runs WHERE run_id = ?", runId);
        return this.sql.run("DELETE FROM runs WHERE run_id = ?", runId).changes > 0;
      });
      if (removed) this.wake.publish(runTopic(runId));
      return removed;
    });
  }
}
