/**
 * Exactly-once application of one command to one run, across runner crashes.
 *
 * The command store makes "outcome recorded + cursor advanced" one durable step, but the effect on a
 * run (saved by the runtime) is a separate write, so a crash between the two would re-apply the
 * command on restart. Each run therefore remembers, in `vars._runtime.commands`:
 *   - `last_seq`: the highest command seq already done on this run (commands apply in seq order, so
 *     `seq <= last_seq` means "done, skip");
 *   - `pending`: `{seq, fingerprint}` written *before* the effect. On restart, a pending entry for the
 *     same seq whose fingerprint no longer matches the run proves the effect already happened.
 * The fingerprint covers what every effect changes (status, node, wait, paused flag), so "unchanged"
 * means the effect did not happen or was a no-op — both safe to redo.
 */
import type { Json, JsonObject, RunState } from "../runtime/types.ts";
import type { Stores } from "../store/types.ts";
import { isObject } from "./command_payload.ts";
import { isDiskFull } from "../util/os_errors.ts";
import { LeaseLostError } from "../store/errors.ts";

export const COMMAND_MARKS_KEY = "commands";

interface CommandMarks {
  last_seq: number;
  pending: { seq: number; fingerprint: string } | null;
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
      ? { seq: pending.seq, fingerprint: pending.fingerprint }
      : null,
  };
}

/** Writes the marks into `run.vars` (caller saves). */
export function writeMarks(run: RunState, marks: CommandMarks): void {
  runtimeVars(run)[COMMAND_MARKS_KEY] = { last_seq: marks.last_seq, pending: marks.pending };
}

/** True when command `seq` is already done on this run. */
export function alreadyDone(run: RunState, seq: number): boolean {
  return readMarks(run).last_seq >= seq;
}

/** Marks `seq` done on the run object (caller saves, together with its own effect). */
export function markDone(run: RunState, seq: number): void {
  const marks = readMarks(run);
  writeMarks(run, { last_seq: Math.max(marks.last_seq, seq), pending: null });
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
  if (marks.last_seq >= seq) return "skipped";
  const fp = fingerprint(run);
  if (marks.pending?.seq === seq && marks.pending.fingerprint !== fp) {
    await finish(stores, runId, seq);
    return "skipped";
  }
  const retry = marks.pending?.seq === seq; // a crash interrupted this command on this run
  if (!retry) {
    writeMarks(run, { last_seq: marks.last_seq, pending: { seq, fingerprint: fp } });
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
  await finish(stores, runId, seq);
  return "applied";
}

async function finish(stores: Stores, runId: string, seq: number): Promise<void> {
  const run = await stores.runs.load(runId);
  if (!run) return;
  markDone(run, seq);
  await stores.runs.save(run);
}
