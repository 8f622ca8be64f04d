/** Wire shapes shared by every part: run checkpoints, waits, effects and ledger records. */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type RunStatus = "running" | "waiting" | "completed" | "failed" | "cancelled";
export const RUN_STATUSES: readonly RunStatus[] = ["running", "waiting", "completed", "failed", "cancelled"];
export const TERMINAL_STATUSES: ReadonlySet<RunStatus> = new Set(["completed", "failed", "cancelled"]);
export const isTerminal = (status: RunStatus): boolean => TERMINAL_STATUSES.has(status);

export type WaitReason = "event" | "until" | "user" | "job" | "subworkflow";

export interface WaitState {
  reason: WaitReason;
  wait_key: string | null;
  until: string | null;
  resume_to_node: string | null;
  result_key: string | null;
  prompt: string | null;
  choices: string[] | null;
  allow_free_text: boolean;
  details: JsonObject | null;
}

/** The persisted checkpoint of one run (field names as upstream). */
export interface RunState {
  run_id: string;
  workflow_id: string;
  status: RunStatus;
  current_node: string | null;
  vars: JsonObject;
  waiting: WaitState | null;
  output: JsonObject | null;
  error: string | null;
  created_at: string;
  updated_at: string;
  actor_id: string | null;
  session_id: string | null;
  parent_run_id: string | null;
}

export interface Effect {
  type: string;
  payload: JsonObject;
  result_key: string | null;
}

export type StepStatus = "started" | "completed" | "waiting" | "failed";

/** One ledger line. Appended, never updated; an executed effect writes two with the same step_id. */
export interface StepRecord {
  run_id: string;
  step_id: string;
  node_id: string;
  status: StepStatus;
  effect: Effect | null;
  result: Json;
  error: string | null;
  started_at: string;
  ended_at: string | null;
  actor_id: string | null;
  session_id: string | null;
  attempt: number;
  idempotency_key: string | null;
  prev_hash: string | null;
  record_hash: string | null;
  signature: string | null;
}

export const COMMAND_TYPES = [
  "pause",
  "resume",
  "cancel",
  "emit_event",
  "update_schedule",
  "compact_memory",
] as const;
export type CommandType = typeof COMMAND_TYPES[number];

/** One line of the durable command inbox. `seq` is global, strictly increasing, 1-based. */
export interface CommandRecord {
  command_id: string;
  run_id: string;
  type: CommandType;
  payload: JsonObject;
  ts: string;
  client_id: string | null;
  seq: number;
}
