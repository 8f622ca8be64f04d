/** Row decoding shared by the SQL backends (SQLite and PostgreSQL store the same columns). */
import type { CommandRecord, CommandType, JsonObject, RunState, StepRecord } from "../runtime/types.ts";
import type { CommandOutcome, RunPage, RunQuery, StoreEntryError } from "./types.ts";
import { StoreCorruptError } from "./types.ts";
import { decodeRunCursor, encodeRunCursor, isPlainObject, queryLimit } from "./validate.ts";

export type SqlRow = Record<string, unknown>;

export function parseRunRow(row: SqlRow): RunState {
  try {
    const run = JSON.parse(String(row.run_json));
    if (run === null || typeof run !== "object" || Array.isArray(run)) throw new Error("not a JSON object");
    return run as RunState;
  } catch (err) {
    throw new StoreCorruptError(`runs:${row.run_id}`, err instanceof Error ? err.message : String(err));
  }
}

/** Parsed rows; a corrupt row is skipped (and reported in `errors` when given), as the file backend does. */
export function parseRunRows(rows: readonly SqlRow[], errors: StoreEntryError[] = []): RunState[] {
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

/** `(seq, record_json)` rows of one run's ledger; a corrupt one names its run and seq. */
export function parseLedgerRows(runId: string, rows: readonly SqlRow[]): StepRecord[] {
  return rows.map((row) => {
    try {
      return JSON.parse(String(row.record_json)) as StepRecord;
    } catch (err) {
      throw new StoreCorruptError(`ledger:${runId}#${row.seq}`, (err as Error).message);
    }
  });
}

export function commandFromRow(row: SqlRow): CommandRecord {
  let payload: JsonObject = {};
  try {
    const parsed = JSON.parse(String(row.payload_json));
    if (isPlainObject(parsed)) payload = parsed as JsonObject;
  } catch {
    // a corrupt payload reads as {} (upstream rule for non-object payloads)
  }
  return {
    command_id: String(row.command_id),
    run_id: String(row.run_id),
    type: String(row.type) as CommandType,
    payload,
    ts: String(row.ts),
    client_id: row.client_id === null ? null : String(row.client_id),
    seq: Number(row.seq),
  };
}

export function outcomeFromRow(row: SqlRow): CommandOutcome {
  return {
    command_id: String(row.command_id),
    seq: Number(row.seq),
    run_id: String(row.run_id),
    type: String(row.type),
    status: row.status === "failed" ? "failed" : "applied",
    error: row.error === null ? null : String(row.error),
    applied_at: String(row.applied_at),
  };
}

/**
 * The SELECT of `RunStore.list` (one row more than the page, to know whether another page follows).
 * `placeholder(n)` writes the n-th (1-based) parameter (`?` or `$n`); `waitKey` is the SQL expression
 * of `waiting.wait_key`.
 */
export function runListSql(
  query: RunQuery,
  placeholder: (n: number) => string,
  waitKey: string,
): { text: string; params: (string | number)[]; limit: number } {
  const limit = queryLimit(query);
  const where: string[] = [];
  const params: (string | number)[] = [];
  // push() returns the new length: the 1-based number of the parameter just added.
  const add = (clause: string, value: string) =>
    where.push(clause.replace("?", placeholder(params.push(value))));
  if (query.status !== undefined) {
    const statuses = Array.isArray(query.status) ? query.status : [query.status];
    const marks = statuses.map((s) => placeholder(params.push(s)));
    where.push(`status IN (${marks.join(",") || "NULL"})`);
  }
  if (query.workflowId !== undefined) add("workflow_id = ?", query.workflowId);
  if (query.parentRunId !== undefined) add("parent_run_id = ?", query.parentRunId);
  if (query.sessionId !== undefined) add("session_id = ?", query.sessionId);
  if (query.actorId !== undefined) add("actor_id = ?", query.actorId);
  if (query.waitReason !== undefined) add("wait_reason = ?", query.waitReason);
  if (query.waitKey !== undefined) add(`${waitKey} = ?`, query.waitKey);
  if (query.createdAfter !== undefined) add("created_at >= ?", query.createdAfter);
  if (query.createdBefore !== undefined) add("created_at <= ?", query.createdBefore);
  if (query.cursor) {
    const c = decodeRunCursor(query.cursor);
    const [u1, u2] = [placeholder(params.push(c.updatedAt)), placeholder(params.push(c.updatedAt))];
    const r = placeholder(params.push(c.runId));
    where.push(`(updated_at < ${u1} OR (updated_at = ${u2} AND run_id < ${r}))`);
  }
  const last = placeholder(params.push(limit + 1));
  const text = `SELECT run_id, updated_at, run_json FROM runs ${
    where.length ? "WHERE " + where.join(" AND ") : ""
  }
    ORDER BY updated_at DESC, run_id DESC LIMIT ${last}`;
  return { text, params, limit };
}

/** The page of `RunStore.list` from the rows `runListSql` selected. */
export function runPageFromRows(rows: readonly SqlRow[], limit: number): RunPage {
  const page = rows.slice(0, limit);
  const errors: StoreEntryError[] = [];
  const items = parseRunRows(page, errors);
  const last = page[page.length - 1];
  const next_cursor = rows.length > limit
    ? encodeRunCursor({ updated_at: String(last.updated_at ?? ""), run_id: String(last.run_id) })
    : null;
  return errors.length ? { items, next_cursor, errors } : { items, next_cursor };
}
