/**
 * Ledger records the runner itself writes: a failed command (so clients replaying the ledger see
 * it) and a tick exception that failed a run. Both carry an idempotency key. A tick failure is
 * appended only if no record with that key exists yet, so a crash-and-retry never duplicates it; a
 * command failure is checked that way only when the caller knows it may be a retry (reading the
 * whole ledger per failure made a burst of failures cost the square of their number).
 */
import type { Effect, RunState, StepRecord } from "../runtime/types.ts";
import type { LedgerStore } from "../store/types.ts";
import { nowIso } from "../util/time.ts";

const PAGE = 500;

/** The first ledger record of the run carrying `key`, or null. */
export async function findByKey(ledger: LedgerStore, runId: string, key: string): Promise<StepRecord | null> {
  let after = 0;
  for (;;) {
    const page = await ledger.read(runId, after, PAGE);
    const hit = page.items.find((r) => r.idempotency_key === key);
    if (hit) return hit;
    if (page.items.length < PAGE) return null;
    after = page.next_after;
  }
}

function failedRecord(
  run: RunState,
  nodeId: string,
  effect: Effect | null,
  error: string,
  key: string,
): StepRecord {
  const now = nowIso();
  return {
    run_id: run.run_id,
    step_id: crypto.randomUUID(),
    node_id: nodeId,
    status: "failed",
    effect,
    result: null,
    error,
    started_at: now,
    ended_at: now,
    actor_id: run.actor_id,
    session_id: run.session_id,
    attempt: 1,
    idempotency_key: key,
    prev_hash: null,
    record_hash: null,
    signature: null,
  };
}

async function appendOnce(ledger: LedgerStore, record: StepRecord): Promise<void> {
  if (await findByKey(ledger, record.run_id, record.idempotency_key!)) return;
  await ledger.append(record.run_id, [record]);
}

interface CommandRef {
  command_id: string;
  type: string;
  seq: number;
}

/** The ledger record of a failed command (idempotency key `command:<command_id>`). */
export function commandFailureRecord(run: RunState, command: CommandRef, error: string): StepRecord {
  const effect: Effect = {
    type: "command",
    payload: { command_id: command.command_id, type: command.type, seq: command.seq },
    result_key: null,
  };
  return failedRecord(run, "command", effect, error, `command:${command.command_id}`);
}

/** `mayExist`: this may re-run a command whose failure a crash interrupted (then check first). */
export async function appendCommandFailure(
  ledger: LedgerStore,
  run: RunState,
  command: CommandRef,
  error: string,
  mayExist: boolean,
): Promise<void> {
  const record = commandFailureRecord(run, command, error);
  if (mayExist) await appendOnce(ledger, record);
  else await ledger.append(run.run_id, [record]);
}

export function appendTickFailure(ledger: LedgerStore, run: RunState, error: string): Promise<void> {
  const key = `system:tick_exception:${run.run_id}`;
  return appendOnce(ledger, failedRecord(run, run.current_node ?? "runtime", null, error, key));
}
