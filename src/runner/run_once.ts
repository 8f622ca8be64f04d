/**
 * Exactly-once application of one command to one run, across runner crashes.
 *
 * The command store makes "outcome recorded + cursor advanced" one durable step, but the effect on a
 * run (saved by the runtime) is a separate write, so a crash between the two would re-apply the
 * command on restart. Each run therefore remembers, in `vars._runtime.commands`:
 *   - `last_seq`: commands up to this seq are done on this run (commands apply in seq order);
 *   - `pending`: `{seq, fingerprint}` written *before* the effect (`first` when it covers the seqs
 *     `first..seq`, the failures a command batch recorded at once). On restart, a pending entry
 *     covering the same seq whose fingerprint no longer matches the run proves the effect already
 *     happened; a later command finds the pending one done (seq order), so a successful effect needs
 *     no second "done" save: the run is saved once per command (the pending mark), plus the
 *     effect's own save.
 * The fingerprint covers what every effect changes (status, node, wait, paused flag), so "unchanged"
 * means the effect did not happen or was a no-op — both safe to redo.
 */
import type { Json, JsonObject, RunState } from "../runtime/types.ts";
import type { Stores } from "../store/types.ts";
import { isObject } from "./command_payload.ts";
import { isDiskFull } from "../util/os_errors.ts";
import { LeaseLostError } from "../store/errors.ts";

export const COMMAND_MARKS_KEY = "commands";

interface PendingMark {
  seq: number;
  fingerprint: string;
  /** The first seq the mark covers when it covers several (a batch's recorded failures). */
  first?: number;
}

interface CommandMarks {
  last_seq: number;
  pending: PendingMark | null;
}

export class RunNotFoundError extends Error {
  constructor(runId: string) {
    super(`Run '${runId}' not found`);
    this.name = "RunNotFoundError";
  }
}

function asObject(value: Json | undefined): JsonObject | null {
  return isObject(value) ? value : null;
}

export function runtimeVars(run: RunState): JsonObject {
  let rt = asObject(run.vars._runtime);
  if (!rt) {
    rt = {};
    run.vars._runtime = rt;
  }
  return rt;
}

export function isPaused(run: RunState): boolean {
  return asObject(asObject(run.vars._runtime)?.control)?.paused === true;
}

function readMarks(run: RunState): CommandMarks {
  const raw = asObject(asObject(run.vars._runtime)?.[COMMAND_MARKS_KEY]);
  const pending = asObject(raw?.pending);
  return {
    last_seq: typeof raw?.last_seq === "number" ? raw.last_seq : 0,
    pending: pending && typeof pending.seq === "number" && typeof pending.fingerprint === "string"
      ? {
        seq: pending.seq,
        fingerprint: pending.fingerprint,
        ...(typeof pending.first === "number" ? { first: pending.first } : {}),
      }
      : null,
  };
}

/** Writes the marks into `run.vars` (caller saves). */
export function writeMarks(run: RunState, marks: CommandMarks): void {
  const pending = marks.pending && { ...marks.pending };
  runtimeVars(run)[COMMAND_MARKS_KEY] = { last_seq: marks.last_seq, pending };
}

const coversSeq = (pending: PendingMark | null, seq: number): pending is PendingMark =>
  pending !== null && (pending.first ?? pending.seq) <= seq && seq <= pending.seq;

/**
 * Commands before `seq` that are done: `last_seq`, and a pending mark below `seq` (a command after it
 * is being applied, so it finished: commands apply in seq order).
 */
function doneBefore(marks: CommandMarks, seq: number): number {
  const pending = marks.pending && marks.pending.seq < seq ? marks.pending.seq : 0;
  return Math.max(marks.last_seq, pending);
}

/** True when command `seq` is already done on this run (a pending mark above it counts too). */
function isDone(marks: CommandMarks, seq: number): boolean {
  return marks.last_seq >= seq ||
    (marks.pending !== null && (marks.pending.first ?? marks.pending.seq) > seq);
}

/** True when command `seq` is already done on this run. */
export function alreadyDone(run: RunState, seq: number): boolean {
  return isDone(readMarks(run), seq);
}

/** True when command `seq` has never touched this run (neither done nor interrupted by a crash). */
export function isNewOnRun(run: RunState, seq: number): boolean {
  const marks = readMarks(run);
  return !isDone(marks, seq) && !coversSeq(marks.pending, seq);
}

/**
 * Marks `seq` done on the run object (caller saves, together with its own effect). The part of a
 * pending range above `seq` stays pending: those commands may still be retries.
 */
export function markDone(run: RunState, seq: number): void {
  const marks = readMarks(run);
  const rest = marks.pending && marks.pending.seq > seq ? marks.pending : null;
  let pending: PendingMark | null = null;
  if (rest) {
    const first = Math.max(rest.first ?? rest.seq, seq + 1);
    pending = { seq: rest.seq, fingerprint: rest.fingerprint, ...(first < rest.seq ? { first } : {}) };
  }
  writeMarks(run, { last_seq: Math.max(doneBefore(marks, seq), seq), pending });
}

/**
 * Marks the new commands `first..last` pending on the run object before their failure records are
 * written (caller saves): a crash in between makes them retries, whose records are appended once.
 */
export function markPendingRange(run: RunState, first: number, last: number): void {
  const marks = readMarks(run);
  writeMarks(run, {
    last_seq: doneBefore(marks, first),
    pending: { seq: last, fingerprint: fingerprint(run), ...(first < last ? { first } : {}) },
  });
}

/**
 * The run state is the truth (a ledger append may precede a crashed run save), so only the run's
 * own fields count.
 */
export function fingerprint(run: RunState): string {
  const w = run.waiting;
  return JSON.stringify([
    run.status,
    run.current_node,
    w?.reason ?? null,
    w?.wait_key ?? null,
    w?.until ?? null,
    isPaused(run),
  ]);
}

/**
 * Applies `effect` (which saves the run itself, e.g. through the runtime) to `runId` at most once
 * for command `seq`. Resolves "skipped" when it was already done. An effect that throws still
 * marks the command done on this run (failed commands are not retried), after `onFailure` has made
 * the failure durable; a full disk (nothing applied) leaves it undone.
 */
export async function applyToRunOnce(
  stores: Stores,
  runId: string,
  seq: number,
  effect: (run: RunState) => Promise<unknown>,
  onFailure?: (err: unknown, retry: boolean) => Promise<void>,
): Promise<"applied" | "skipped"> {
  const run = await stores.runs.load(runId);
  if (!run) throw new RunNotFoundError(runId);
  const marks = readMarks(run);
  if (isDone(marks, seq)) return "skipped";
  const fp = fingerprint(run);
  const retry = coversSeq(marks.pending, seq); // a crash interrupted this command on this run
  if (retry && marks.pending!.fingerprint !== fp) return "skipped"; // its effect happened
  if (!retry) {
    writeMarks(run, { last_seq: doneBefore(marks, seq), pending: { seq, fingerprint: fp } });
    await stores.runs.save(run);
  }
  try {
    await effect(run);
  } catch (err) {
    // A full disk is not the command's failure: leave it undone so the drain retries it later.
    // Neither is a lost lease (another runner now owns the run and applies the command).
    if (isDiskFull(err) || err instanceof LeaseLostError) throw err;
    // The failure must be durable before the "done" mark, or a crash in between reports it applied.
    await onFailure?.(err, retry);
    await finish(stores, runId, seq);
    throw err;
  }
  return "applied";
}

async function finish(stores: Stores, runId: string, seq: number): Promise<void> {
  const run = await stores.runs.load(runId);
  if (!run) return;
  markDone(run, seq);
  await stores.runs.save(run);
}
