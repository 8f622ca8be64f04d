/** `resume` (runtime-model.md §1.6): answer the run's current wait, append the resume record. */
import { isDeepStrictEqual } from "node:util";
import type { ResumeOptions } from "../runtime.ts";
import type { JsonObject, RunState, StepRecord } from "../types.ts";
import { RuntimeError } from "../errors.ts";
import type { EngineHost } from "./host.ts";
import { setPath } from "./json.ts";
import { scanFromNewest } from "./ledger_tail.ts";
import { resumeCompletionRecord, resumeRecord, stepRecord } from "./records.ts";
import { isPaused } from "./run_vars.ts";
import { appendRecords, completeRun, loadRun, saveRun } from "./transitions.ts";

export async function resumeRun(host: EngineHost, runId: string, options: ResumeOptions): Promise<RunState> {
  const run = await loadRun(host, runId);
  if (isPaused(run)) throw new RuntimeError("run_paused", "Run is paused");
  const wait = run.waiting;
  if (run.status !== "waiting" || wait === null) {
    throw new RuntimeError("run_not_waiting", "Run is not waiting");
  }
  if (options.waitKey && options.waitKey !== wait.wait_key) {
    throw new RuntimeError(
      "wait_key_mismatch",
      `wait_key mismatch: run is waiting on '${wait.wait_key}', got '${options.waitKey}'`,
    );
  }
  const payload = options.payload;
  if (wait.result_key) setPath(run.vars, wait.result_key, payload);
  const resume = resumeRecord(run, wait, payload);
  const answered = await alreadyResumed(host, run.run_id, resume);
  const records: StepRecord[] = [];
  if (!answered) {
    const toolRecord = await toolWaitCompletion(host, run, payload);
    if (toolRecord) records.push(toolRecord);
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
 * A TOOL_CALLS wait answered with a tool-results envelope (`{mode:"executed", results:[…]}`, passthrough /
 * delegated executors) gets a synthetic COMPLETED copy of its waiting record carrying those results, so
 * ledger-only UIs stop showing the calls as pending. Approval answers (`{approved}`) carry no results:
 * the approved calls run as their own effect, so no synthetic record (it would poison idempotent reuse).
 */
async function toolWaitCompletion(
  host: EngineHost,
  run: RunState,
  payload: JsonObject,
): Promise<StepRecord | null> {
  if (payload.mode !== "executed" || !Array.isArray(payload.results)) return null;
  const count = await host.stores.ledger.count(run.run_id);
  const tail = await host.stores.ledger.read(run.run_id, Math.max(0, count - 20), 20);
  const waiting = [...tail.items].reverse().find((r) => r.status === "waiting");
  if (!waiting || waiting.effect?.type !== "tool_calls") return null;
  return stepRecord(run, {
    node_id: waiting.node_id,
    status: "completed",
    effect: waiting.effect,
    result: payload,
    idempotency_key: waiting.idempotency_key,
    attempt: waiting.attempt,
  });
}
