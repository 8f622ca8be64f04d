/** Small builders for LLM-side tests: runs, effect contexts, and a scratch workspace under ./data. */
import type { EffectContext, EffectServices } from "../../../src/runtime/spec.ts";
import type { Effect, JsonObject, RunState, StepRecord } from "../../../src/runtime/types.ts";
import { isoUtc } from "../../../src/util/time.ts";

export function makeRun(vars: JsonObject = {}, workflowId = "test-wf"): RunState {
  const now = isoUtc();
  return {
    run_id: crypto.randomUUID(),
    workflow_id: workflowId,
    status: "running",
    current_node: null,
    vars,
    waiting: null,
    output: null,
    error: null,
    created_at: now,
    updated_at: now,
    actor_id: "gateway",
    session_id: null,
    parent_run_id: null,
  };
}

export function servicesWith(ledger: StepRecord[] = []): EffectServices {
  return {
    startChild: () => Promise.reject(new Error("not used")),
    tick: () => Promise.reject(new Error("not used")),
    loadRun: () => Promise.resolve(null),
    readLedger: () => Promise.resolve(ledger),
    nowIso: () => isoUtc(),
    storeArtifact: () => Promise.reject(new Error("not used")),
    loadArtifact: () => Promise.resolve(null),
  };
}

let counter = 0;

export function effectCtx(run: RunState, effect: Effect, ledger: StepRecord[] = []): EffectContext {
  counter++;
  return {
    run,
    effect,
    node_id: "node-1",
    step_id: crypto.randomUUID(),
    attempt: 1,
    idempotency_key: counter.toString(16).padStart(32, "0"),
    services: servicesWith(ledger),
  };
}

/** A fresh directory under ./data (inside the gateway sandbox's writable area). */
export async function scratchDir(prefix: string): Promise<string> {
  await Deno.mkdir("./data", { recursive: true });
  return await Deno.realPath(await Deno.makeTempDir({ dir: "./data", prefix }));
}
