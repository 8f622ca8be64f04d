/** Per-node execution traces in `vars._runtime.node_traces` (max 100 steps per node). */
import type { Effect, Json, JsonObject, RunState, WaitState } from "../types.ts";
import { nowIso } from "../../util/time.ts";
import { isObject, objectAt } from "./json.ts";

const MAX_STEPS_PER_NODE = 100;

export interface TraceEntry {
  nodeId: string;
  status: "completed" | "waiting" | "failed";
  idempotencyKey: string;
  reused: boolean;
  effect: Effect;
  durationMs: number;
  result?: Json;
  error?: string;
  wait?: WaitState;
}

export function appendTrace(run: RunState, t: TraceEntry): void {
  const traces = objectAt(run.vars, "_runtime.node_traces");
  const existing = traces[t.nodeId];
  const node: JsonObject = isObject(existing) ? existing : { node_id: t.nodeId, steps: [] };
  const steps = Array.isArray(node.steps) ? node.steps : [];
  const step: JsonObject = {
    ts: nowIso(),
    node_id: t.nodeId,
    status: t.status,
    idempotency_key: t.idempotencyKey,
    reused_prior_result: t.reused,
    effect: { type: t.effect.type, payload: t.effect.payload, result_key: t.effect.result_key },
    duration_ms: t.durationMs,
  };
  if (t.status === "completed") step.result = t.result ?? null;
  else if (t.status === "failed") step.error = t.error ?? null;
  else step.wait = (t.wait ?? null) as unknown as Json;
  steps.push(step);
  node.steps = steps.slice(-MAX_STEPS_PER_NODE);
  node.updated_at = nowIso();
  traces[t.nodeId] = node;
}
