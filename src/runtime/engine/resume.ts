/** `resume` (runtime-model.md §1.6): answer the run's current wait, append the resume record. */
import { isDeepStrictEqual } from "node:util";
import type { ResumeOptions } from "../runtime.ts";
import type { JsonObject, RunState, StepRecord, WaitState } from "../types.ts";
import { RuntimeError } from "../errors.ts";
import type { EngineHost } from "./host.ts";
import { isObject, setPath } from "./json.ts";
import { servicesFor } from "./effects.ts";
import { scanFromNewest } from "./ledger_tail.ts";
import { resumeCompletionRecord, resumeRecord, stepRecord } from "./records.ts";
import { isPaused } from "./run_vars.ts";
import { appendRecords, completeRun, loadRun, saveRun } from "./transitions.ts";

/**
 * The wait a resume answers; throws (changing nothing) when the run cannot be resumed with
 * `waitKey`: it is paused, not waiting, or waiting on another key. The command drain checks this
 * first to record such failures without a write per command.
 */
export function assertResumable(run: RunState, waitKey: string | null | undefined): WaitState {
  if (isPaused(run)) throw new RuntimeError("run_paused", "Run is paused");
  const wait = run.waiting;
  if (run.status !== "waiting" || wait === null) {
    throw new RuntimeError("run_not_waiting", "Run is not waiting");
  }
  if (waitKey && waitKey !== wait.wait_key) {
    throw new RuntimeError(
      "wait_key_mismatch",
      `wait_key mismatch: run is waiting on '${wait.wait_key}', got '${waitKey}'`,
    );
  }
  return wait;
}

export async function resumeRun(host: EngineHost, runId: string, options: ResumeOptions): Promise<RunState> {
  const run = await loadRun(host, runId);
  const wait = assertResumable(run, options.waitKey);
  const payload = options.payload;
  const resume = resumeRecord(run, wait, payload);
  const answered = await alreadyResumed(host, run.run_id, resume);
  const tool = await toolWaitOutcome(host, run, wait, payload, answered);
  if (wait.result_key) setPath(run.vars, wait.result_key, tool.value);
  const records: StepRecord[] = [];
  if (!answered) {
    if (tool.record) records.push(tool.record);
    records.push(resume);
  }
  if (!wait.resume_to_node) {
    const output: JsonObject = { success: true, result: payload };
    if (!answered) records.push(resumeCompletionRecord(run, wait, output));
    return await completeRun(host, run, output, { withRecord: false, extra: records });
  }
  run.status = "running";
  run.current_node = wait.resume_to_node;
  run.waiting = null;
  await appendRecords(host, run.run_id, records);
  await saveRun(host, run);
  const maxSteps = options.maxSteps ?? 100;
  return maxSteps > 0 ? await host.tick(run.run_id, maxSteps) : run;
}

/**
 * True when the ledger already holds this very resume (same wait, same payload) after the wait's
 * `waiting` record: a crash struck after the records were appended and before the run was saved, so
 * the run still waits, and the redo must not record the resume twice.
 */
function alreadyResumed(host: EngineHost, runId: string, resume: StepRecord): Promise<boolean> {
  // As stored: keys holding `undefined` are dropped by the JSON round trip.
  const answer = JSON.parse(JSON.stringify(resume.effect?.payload));
  return scanFromNewest(host.stores.ledger, runId, (r) => {
    if (r.effect?.type === "resume" && isDeepStrictEqual(r.effect.payload, answer)) return true;
    return r.status === "waiting" ? false : undefined;
  });
}

/**
 * A TOOL_CALLS wait gets a synthetic COMPLETED copy of its waiting record (same idempotency key),
 * so ledger-only UIs see the step finish, carrying the tool-results envelope the wait's
 * `result_key` receives:
 * - answered with an envelope (`{mode:"executed", results}`: passthrough/delegated executors): that;
 * - a tool-approval wait answered by a person: the batch runs (or is denied as a whole) here,
 *   inside the resume, as upstream does. A redo after a crash reuses the recorded results.
 * Any other wait, or answer, passes the payload through unchanged.
 */
async function toolWaitOutcome(
  host: EngineHost,
  run: RunState,
  wait: WaitState,
  payload: JsonObject,
  answered: boolean,
): Promise<{ value: JsonObject; record: StepRecord | null }> {
  const executed = payload.mode === "executed" && Array.isArray(payload.results);
  const approval = wait.wait_key?.startsWith("tool_approval:") === true;
  if (!executed && !approval) return { value: payload, record: null }; // not a tool wait: no ledger scan
  const waiting = await scanFromNewest<StepRecord | null>(host.stores.ledger, run.run_id, (r) => {
    const w = isObject(r.result) && isObject(r.result.wait) ? r.result.wait : null;
    return r.status === "waiting" && r.effect?.type === "tool_calls" && w?.wait_key === wait.wait_key
      ? r
      : undefined;
  }, null);
  if (!waiting?.effect) return { value: payload, record: null };
  const result = executed
    ? payload
    : answered
    ? await recordedResult(host, run.run_id, waiting)
    : await runApprovedBatch(host, run, waiting, payload);
  if (!result) return { value: payload, record: null };
  const record = answered ? null : stepRecord(run, {
    step_id: waiting.step_id,
    node_id: waiting.node_id,
    status: "completed",
    effect: waiting.effect,
    result,
    idempotency_key: waiting.idempotency_key,
    attempt: waiting.attempt,
  });
  return { value: result, record };
}

/** The `tool_calls` handler runs the waiting batch with the person's answer. */
async function runApprovedBatch(
  host: EngineHost,
  run: RunState,
  waiting: StepRecord,
  answer: JsonObject,
): Promise<JsonObject | null> {
  const handler = host.effectHandler("tool_calls");
  if (!handler || !waiting.effect || !waiting.idempotency_key) return null;
  const outcome = await handler({
    run,
    effect: waiting.effect,
    node_id: waiting.node_id,
    step_id: waiting.step_id,
    attempt: waiting.attempt,
    idempotency_key: waiting.idempotency_key,
    services: servicesFor(host, run),
    approval: answer,
  });
  return outcome.status === "completed" && isObject(outcome.result) ? outcome.result : null;
}

/** The results a resume already recorded for this wait (newest first, stopping at the wait). */
function recordedResult(host: EngineHost, runId: string, waiting: StepRecord): Promise<JsonObject | null> {
  return scanFromNewest<JsonObject | null>(host.stores.ledger, runId, (r) => {
    if (r.step_id === waiting.step_id && r.status === "waiting") return null;
    return r.status === "completed" && r.effect?.type === "tool_calls" &&
        r.idempotency_key === waiting.idempotency_key && isObject(r.result)
      ? r.result
      : undefined;
  }, null);
}
