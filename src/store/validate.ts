/** Input checks shared by every backend, so both reject the same things with the same messages. */
import type { CommandRecord, RunState } from "../runtime/types.ts";
import type { NewCommand, RunQuery } from "./types.ts";
import { StoreValidationError } from "./errors.ts";
import { isPaused } from "../runtime/engine/run_vars.ts";

/** Longest id in UTF-8 bytes: `run_<id>.json` and `<id>.meta` stay well under the 255-byte name limit. */
export const MAX_ID_BYTES = 200;

/** UTF-8 length of `text` (a lone surrogate counts as U+FFFD, as TextEncoder writes it), without encoding it. */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** True for C0/C1 control characters, DEL and lone surrogates: never part of an id. */
const isUnprintable = (c: number): boolean =>
  c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xdfff);

/**
 * Why `id` is not a valid identifier, or null when it is: printable, 1..MAX_ID_BYTES bytes, and — where
 * it becomes a file name (`fileName`) — no "/" or "\" and not a dot name.
 */
export function idProblem(id: string, fileName = true): string | null {
  if (id.length === 0) return "must be a non-empty string";
  // Ids are checked on every request: no encoding unless the id could be too long (≤ 3 bytes a unit).
  if (id.length * 3 > MAX_ID_BYTES && utf8Length(id) > MAX_ID_BYTES) {
    return `must be at most ${MAX_ID_BYTES} bytes`;
  }
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < id.length) {
      const next = id.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++; // a valid surrogate pair
        continue;
      }
    }
    if (isUnprintable(c)) return "must not contain control characters";
    if (fileName && (c === 0x2f || c === 0x5c)) return "must not contain '/' or '\\'";
  }
  if (fileName && (id === "." || id === "..")) return "must not be '.' or '..'";
  return null;
}

/** Ids become file names in the file backend: refuse separators, control characters and dot names. */
export function assertId(kind: string, id: unknown): asserts id is string {
  if (typeof id !== "string" || id.length === 0) {
    throw new StoreValidationError(`${kind} must be a non-empty string`);
  }
  const problem = idProblem(id);
  if (problem) {
    throw new StoreValidationError(
      `${kind} ${JSON.stringify(id.slice(0, 60))} is not a valid id: ${problem}`,
    );
  }
}

export function assertRun(run: RunState): void {
  if (run === null || typeof run !== "object") throw new StoreValidationError("run must be an object");
  assertId("run_id", run.run_id);
  if (typeof run.workflow_id !== "string") throw new StoreValidationError("run.workflow_id must be a string");
  if (typeof run.status !== "string") throw new StoreValidationError("run.status must be a string");
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

export function assertLedgerRecords(records: unknown): void {
  if (!Array.isArray(records)) throw new StoreValidationError("ledger records must be an array");
  if (!records.every(isPlainObject)) {
    throw new StoreValidationError("every ledger record must be a JSON object");
  }
}

/** Store-level command validation (the HTTP layer also checks the type against COMMAND_TYPES). */
export function validateCommand(command: NewCommand): void {
  if (!isPlainObject(command)) throw new StoreValidationError("command must be an object");
  const nonEmpty = (field: keyof NewCommand) => {
    const value = command[field];
    if (typeof value !== "string" || value.trim() === "") {
      throw new StoreValidationError(`command.${field} must be a non-empty string`);
    }
  };
  nonEmpty("command_id");
  nonEmpty("run_id");
  // Both are read back as keys (SQLite would truncate at a NUL); run_id may be a session id (emit_event).
  for (const field of ["command_id", "run_id"] as const) {
    const problem = idProblem(command[field], false);
    if (problem) throw new StoreValidationError(`command.${field} is not a valid id: ${problem}`);
  }
  nonEmpty("type");
  nonEmpty("ts");
  if (!isPlainObject(command.payload)) {
    throw new StoreValidationError("command.payload must be a JSON object");
  }
  if (
    command.client_id !== null && command.client_id !== undefined && typeof command.client_id !== "string"
  ) {
    throw new StoreValidationError("command.client_id must be a string or null");
  }
}

/** The persisted shape of a command, fields in the upstream order. */
export function commandRecord(command: NewCommand, seq: number): CommandRecord {
  return {
    command_id: command.command_id,
    run_id: command.run_id,
    type: command.type,
    payload: command.payload,
    ts: command.ts,
    client_id: command.client_id ?? null,
    seq,
  };
}

export function assertOffset(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new StoreValidationError(`${name} must be a non-negative integer, got ${value}`);
  }
}

/** Opaque run-list cursor: the (updated_at, run_id) of the last item of the previous page. */
export interface RunCursor {
  updatedAt: string;
  runId: string;
}

export function encodeRunCursor(run: Pick<RunState, "updated_at" | "run_id">): string {
  const bytes = new TextEncoder().encode(`${run.updated_at}|${run.run_id}`);
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function decodeRunCursor(cursor: string): RunCursor {
  try {
    const b64 = cursor.replaceAll("-", "+").replaceAll("_", "/");
    const text = new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)),
    );
    const bar = text.indexOf("|");
    if (bar < 0) throw new Error("no separator");
    return { updatedAt: text.slice(0, bar), runId: text.slice(bar + 1) };
  } catch {
    throw new StoreValidationError(`invalid run list cursor ${JSON.stringify(cursor.slice(0, 60))}`);
  }
}

/** Newest first: updated_at descending, then run_id descending (a total order for paging). */
export function compareNewestFirst(
  a: Pick<RunState, "updated_at" | "run_id">,
  b: Pick<RunState, "updated_at" | "run_id">,
): number {
  if (a.updated_at !== b.updated_at) return a.updated_at < b.updated_at ? 1 : -1;
  return a.run_id === b.run_id ? 0 : a.run_id < b.run_id ? 1 : -1;
}

const DEFAULT_RUN_LIMIT = 100;

export function queryLimit(query: RunQuery): number {
  const limit = query.limit ?? DEFAULT_RUN_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new StoreValidationError(`limit must be a positive integer, got ${limit}`);
  }
  return limit;
}

/** The fields of a run that queries look at (the file backend caches them per run file). */
export interface RunSummary {
  run_id: string;
  workflow_id: string;
  status: string;
  parent_run_id: string | null;
  session_id: string | null;
  actor_id: string | null;
  created_at: string;
  updated_at: string;
  wait_reason: string | null;
  wait_key: string | null;
  wait_until: string | null;
  /** `vars._runtime.control.paused` (a paused run is never ticked). */
  paused: boolean;
}

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

export function summarize(run: RunState): RunSummary {
  const waiting = isPlainObject(run.waiting) ? run.waiting : null;
  return {
    run_id: run.run_id,
    workflow_id: String(run.workflow_id ?? ""),
    status: String(run.status ?? ""),
    parent_run_id: str(run.parent_run_id),
    session_id: str(run.session_id),
    actor_id: str(run.actor_id),
    created_at: str(run.created_at) ?? "",
    updated_at: str(run.updated_at) ?? "",
    wait_reason: str(waiting?.reason),
    wait_key: str(waiting?.wait_key),
    wait_until: str(waiting?.until),
    paused: isPaused(run),
  };
}

/** True when a run is due-able: waiting on an `until` wait with a time. */
export const isWaitingUntil = (s: RunSummary): boolean =>
  s.status === "waiting" && s.wait_reason === "until" && s.wait_until !== null;

/**
 * Since when the runner may tick a run at `nowIso` (a running run: its last update; a due `until`
 * wait: its `until`), or null when it may not (not gateway-owned, paused, not running nor due).
 */
export function readySince(s: RunSummary, nowIso: string): string | null {
  if (s.actor_id !== "gateway" || s.paused) return null;
  if (s.status === "running") return s.updated_at;
  return isWaitingUntil(s) && s.wait_until! <= nowIso ? s.wait_until : null;
}

/** A runnable run and since when it is ready (see readySince). */
export interface ReadyRun {
  run_id: string;
  ready_at: string;
}

/**
 * The ids of the `limit` runs ready longest (ties by run id): the runner's FIFO order, across the
 * running runs and the due `until` waits.
 */
export function oldestReady(ready: Iterable<ReadyRun>, limit: number): string[] {
  const sorted = [...ready].sort((a, b) =>
    a.ready_at < b.ready_at
      ? -1
      : a.ready_at > b.ready_at
      ? 1
      : a.run_id < b.run_id
      ? -1
      : a.run_id > b.run_id
      ? 1
      : 0
  );
  return sorted.slice(0, limit).map((r) => r.run_id);
}

/** In-memory evaluation of a RunQuery's filters (file backend; the SQL backend builds a WHERE). */
export function matchesQuery(s: RunSummary, query: RunQuery, after: RunCursor | null): boolean {
  if (query.status !== undefined) {
    const wanted = Array.isArray(query.status) ? query.status : [query.status];
    if (!wanted.includes(s.status as RunState["status"])) return false;
  }
  if (query.workflowId !== undefined && s.workflow_id !== query.workflowId) return false;
  if (query.parentRunId !== undefined && s.parent_run_id !== query.parentRunId) return false;
  if (query.sessionId !== undefined && s.session_id !== query.sessionId) return false;
  if (query.actorId !== undefined && s.actor_id !== query.actorId) return false;
  if (query.waitReason !== undefined && s.wait_reason !== query.waitReason) return false;
  if (query.waitKey !== undefined && s.wait_key !== query.waitKey) return false;
  if (query.createdAfter !== undefined && s.created_at < query.createdAfter) return false;
  if (query.createdBefore !== undefined && s.created_at > query.createdBefore) return false;
  if (after && compareNewestFirst(s, { updated_at: after.updatedAt, run_id: after.runId }) <= 0) return false;
  return true;
}

/** The arguments of `LedgerStore.read`: a safe run id and two non-negative integer offsets. */
export function assertLedgerPage(runId: string, after: number, limit: number): void {
  assertId("run_id", runId);
  assertOffset("after", after);
  assertOffset("limit", limit);
}
