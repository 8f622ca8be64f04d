/** Builders for store tests: runs, ledger records and commands in the upstream shapes. */
import type { RunState, StepRecord, WaitState } from "../../src/runtime/types.ts";
import type { CommandOutcome, NewCommand } from "../../src/store/types.ts";

export function makeRun(runId: string, overrides: Partial<RunState> = {}): RunState {
  return {
    run_id: runId,
    workflow_id: "bundle@1.0.0:main",
    status: "running",
    current_node: "node-1",
    vars: { prompt: "hello" },
    waiting: null,
    output: null,
    error: null,
    created_at: "2026-01-01T00:00:00.000000+00:00",
    updated_at: "2026-01-01T00:00:00.000000+00:00",
    actor_id: "gateway",
    session_id: null,
    parent_run_id: null,
    ...overrides,
  };
}

export function makeWait(overrides: Partial<WaitState> = {}): WaitState {
  return {
    reason: "until",
    wait_key: null,
    until: null,
    resume_to_node: "node-2",
    result_key: null,
    prompt: null,
    choices: null,
    allow_free_text: false,
    details: null,
    ...overrides,
  };
}

export function makeRecord(runId: string, i: number, extra: Partial<StepRecord> = {}): StepRecord {
  return {
    run_id: runId,
    step_id: `step-${i}`,
    node_id: `node-${i % 7}`,
    status: "completed",
    effect: null,
    result: { i, text: `record ${i} — ünïcode` },
    error: null,
    started_at: "2026-01-01T00:00:00.000000+00:00",
    ended_at: "2026-01-01T00:00:01.000000+00:00",
    actor_id: "gateway",
    session_id: null,
    attempt: 1,
    idempotency_key: null,
    prev_hash: null,
    record_hash: null,
    signature: null,
    ...extra,
  };
}

export function makeCommand(
  commandId: string,
  runId = "run-1",
  overrides: Partial<NewCommand> = {},
): NewCommand {
  return {
    command_id: commandId,
    run_id: runId,
    type: "pause",
    payload: { reason: "test" },
    ts: "2026-01-01T00:00:00.000000+00:00",
    client_id: "tests",
    ...overrides,
  };
}

/** An `applied` outcome of pause command `commandId` (seq `seq`) on `runId`. */
export const appliedOutcome = (commandId: string, seq: number, runId: string): CommandOutcome => ({
  command_id: commandId,
  seq,
  run_id: runId,
  type: "pause",
  status: "applied",
  error: null,
  applied_at: iso(1),
});

export const iso = (minute: number): string =>
  `2026-01-01T00:${String(minute).padStart(2, "0")}:00.000000+00:00`;

/** Resolves when `predicate` holds, polling every 10 ms; rejects after `timeoutMs`. */
export async function eventually(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs `fn` with a fresh temp dir, then removes it. */
export async function withTempDir(prefix: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
