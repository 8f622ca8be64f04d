/** A completed step record with a given result, for tests and benches that append to a ledger directly. */
import type { JsonObject, StepRecord } from "../../src/runtime/types.ts";
import { nowIso } from "../../src/util/time.ts";

export function syntheticRecord(runId: string, i: number, nodeId: string, result: JsonObject): StepRecord {
  return {
    run_id: runId,
    step_id: `${nodeId}-${i}`,
    node_id: nodeId,
    status: "completed",
    effect: null,
    result,
    error: null,
    started_at: nowIso(),
    ended_at: nowIso(),
    actor_id: "gateway",
    session_id: runId,
    attempt: 1,
    idempotency_key: null,
    prev_hash: null,
    record_hash: null,
    signature: null,
  };
}
