/** Ledger StepRecord builders, field order exactly as upstream (runtime-model.md §2.1–2.3). */
import type {
  Effect,
  Json,
  JsonObject,
  RunState,
  RunStatus,
  StepRecord,
  StepStatus,
  WaitState,
} from "../types.ts";
import { nowIso } from "../../util/time.ts";
import { newId } from "./idempotency.ts";

export interface RecordFields {
  step_id?: string;
  node_id: string;
  status: StepStatus;
  effect: Effect | null;
  result?: Json;
  error?: string | null;
  started_at?: string;
  ended_at?: string | null;
  attempt?: number;
  idempotency_key?: string | null;
}

export function stepRecord(run: RunState, f: RecordFields): StepRecord {
  const started = f.started_at ?? nowIso();
  return {
    run_id: run.run_id,
    step_id: f.step_id ?? newId(),
    node_id: f.node_id,
    status: f.status,
    effect: f.effect,
    result: f.result ?? null,
    error: f.error ?? null,
    started_at: started,
    ended_at: f.ended_at === undefined ? nowIso() : f.ended_at,
    actor_id: run.actor_id,
    session_id: run.session_id,
    attempt: f.attempt ?? 1,
    idempotency_key: f.idempotency_key ?? null,
    prev_hash: null,
    record_hash: null,
    signature: null,
  };
}

export const recordNode = (run: RunState): string => run.current_node ?? "runtime";

/** The run completed through a `complete_output` plan. */
export const completionRecord = (run: RunState, nodeId: string, output: JsonObject): StepRecord =>
  stepRecord(run, {
    node_id: nodeId,
    status: "completed",
    effect: null,
    result: { completed: true, output },
  });

/** A wait without `resume_to_node` was answered: the run completed via resume. */
export function resumeCompletionRecord(run: RunState, wait: WaitState, output: JsonObject): StepRecord {
  return stepRecord(run, {
    node_id: recordNode(run),
    status: "completed",
    effect: null,
    result: { completed: true, via: "resume", wait_reason: wait.reason, wait_key: wait.wait_key, output },
  });
}

/** `abstract.status` record appended on every terminal transition (status bars close on it). */
export function terminalStatusRecord(run: RunState, status: RunStatus): StepRecord {
  const payload = { text: status };
  return stepRecord(run, {
    node_id: recordNode(run),
    status: "completed",
    effect: {
      type: "emit_event",
      payload: { name: "abstract.status", scope: "session", payload },
      result_key: null,
    },
    result: { emitted: true, name: "abstract.status", payload },
    idempotency_key: `system:terminal_status:${status}`,
  });
}

export function resumeRecord(run: RunState, wait: WaitState, payload: JsonObject): StepRecord {
  return stepRecord(run, {
    node_id: recordNode(run),
    status: "completed",
    effect: {
      type: "resume",
      payload: {
        wait_reason: wait.reason,
        wait_key: wait.wait_key,
        resume_to_node: wait.resume_to_node,
        result_key: wait.result_key,
        payload,
      },
      result_key: null,
    },
    result: { resumed: true },
  });
}

/** A node/handler error that failed the run (unsupported node type, unknown node, …). */
export function nodeFailureRecord(run: RunState, nodeId: string, error: string): StepRecord {
  return stepRecord(run, {
    node_id: nodeId,
    status: "failed",
    effect: null,
    error,
    idempotency_key: `system:tick_exception:${run.run_id}`,
  });
}
