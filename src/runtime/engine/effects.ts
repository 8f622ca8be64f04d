/**
 * Executes one effect with idempotency and retries (runtime-model.md §1.5, §1.7): reuse a completed
 * result from the ledger, otherwise append `started`, run the handler, append the finished copy.
 */
import type { EffectContext, EffectOutcome, EffectServices } from "../spec.ts";
import type { Effect, JsonObject, RunState, StepRecord } from "../types.ts";
import { nowIso } from "../../util/time.ts";
import { errorText } from "../../util/log.ts";
import type { EngineHost } from "./host.ts";
import { idempotencyKey, newId } from "./idempotency.ts";
import { isObject } from "./json.ts";
import type { LedgerIndex } from "./ledger_index.ts";
import { stepRecord } from "./records.ts";
import { appendTrace } from "./traces.ts";
import { appendRecords } from "./transitions.ts";

export interface EffectStep {
  run: RunState;
  nodeId: string;
  effect: Effect;
  /** The plan's next node: default `resume_to_node` of a wait. */
  nextNode: string | null;
  index: LedgerIndex;
}

export async function executeEffect(host: EngineHost, step: EffectStep): Promise<EffectOutcome> {
  const { run, nodeId, effect, index } = step;
  const key = idempotencyKey(run.run_id, nodeId, effect);
  const began = performance.now();
  const prior = index.completedResult(key);
  const pending = index.pendingStep(key);
  let outcome: EffectOutcome;
  let reused = true;
  if (prior.found) {
    outcome = { status: "completed", result: prior.result };
  } else if (pending?.kind === "waiting") {
    outcome = { status: "waiting", wait: pending.wait };
  } else {
    reused = false;
    outcome = await runAttempts(host, step, key, pending?.kind === "started" ? pending.record : undefined);
  }
  appendTrace(run, {
    nodeId,
    status: outcome.status,
    idempotencyKey: key,
    reused,
    effect,
    durationMs: performance.now() - began,
    result: outcome.status === "completed" ? outcome.result : undefined,
    error: outcome.status === "failed" ? outcome.error : undefined,
    wait: outcome.status === "waiting" ? outcome.wait : undefined,
  });
  return outcome;
}

async function runAttempts(
  host: EngineHost,
  step: EffectStep,
  key: string,
  interrupted: StepRecord | undefined,
): Promise<EffectOutcome> {
  const maxAttempts = Math.max(1, host.retryPolicy.maxAttempts(step.effect));
  let outcome: EffectOutcome = { status: "failed", error: "effect not executed" };
  let attempt = interrupted?.attempt ?? 1;
  for (; attempt <= maxAttempts; attempt++) {
    const stepId = interrupted?.step_id ?? newId();
    const startedAt = interrupted?.started_at ?? nowIso();
    const recorded = withTraceMetadata(step.effect, stepId, key, attempt);
    const base = { step_id: stepId, node_id: step.nodeId, effect: recorded, attempt, idempotency_key: key };
    if (!interrupted) {
      const started = stepRecord(step.run, {
        ...base,
        status: "started",
        started_at: startedAt,
        ended_at: null,
      });
      await appendRecords(host, step.run.run_id, [started]);
      step.index.observe(started);
    }
    interrupted = undefined;
    outcome = await callHandler(host, step, recorded, stepId, attempt, key);
    if (outcome.status === "waiting") {
      outcome = {
        status: "waiting",
        wait: {
          ...outcome.wait,
          resume_to_node: outcome.wait.resume_to_node ?? step.nextNode,
          result_key: outcome.wait.result_key ?? step.effect.result_key,
        },
      };
    }
    const finished = stepRecord(step.run, {
      ...base,
      status: outcome.status,
      started_at: startedAt,
      result: outcome.status === "completed"
        ? outcome.result
        : outcome.status === "waiting"
        ? { wait: outcome.wait as unknown as JsonObject }
        : null,
      error: outcome.status === "failed" ? outcome.error : null,
    });
    await appendRecords(host, step.run.run_id, [finished]);
    step.index.observe(finished);
    if (outcome.status !== "failed") return outcome;
    if (attempt < maxAttempts) {
      await new Promise((r) => setTimeout(r, host.retryPolicy.backoffSeconds(step.effect, attempt) * 1000));
    }
  }
  if (outcome.status === "failed") { // upstream's wording, also for a single attempt ("after 1 attempts")
    return { status: "failed", error: `Effect failed after ${maxAttempts} attempts: ${outcome.error}` };
  }
  return outcome;
}

async function callHandler(
  host: EngineHost,
  step: EffectStep,
  effect: Effect,
  stepId: string,
  attempt: number,
  key: string,
): Promise<EffectOutcome> {
  const handler = host.effectHandler(effect.type);
  if (!handler) return { status: "failed", error: `No effect handler registered for ${effect.type}` };
  const ctx: EffectContext = {
    run: step.run,
    effect,
    node_id: step.nodeId,
    step_id: stepId,
    attempt,
    idempotency_key: key,
    services: servicesFor(host, step.run),
  };
  try {
    return await handler(ctx);
  } catch (err) {
    return { status: "failed", error: `Effect handler raised exception: ${errorText(err)}` };
  }
}

/** LLM calls carry `params.trace_metadata` (after the key is computed); the ledger shows this payload. */
function withTraceMetadata(effect: Effect, stepId: string, key: string, attempt: number): Effect {
  if (effect.type !== "llm_call") return effect;
  const params = isObject(effect.payload.params) ? effect.payload.params : {};
  const trace = isObject(params.trace_metadata) ? params.trace_metadata : {};
  return {
    ...effect,
    payload: {
      ...effect.payload,
      params: {
        ...params,
        trace_metadata: { ...trace, step_id: stepId, effect_idempotency_key: key, attempt },
      },
    },
  };
}

export function servicesFor(host: EngineHost, run: RunState): EffectServices {
  return {
    startChild: (o) =>
      host.start({
        workflowId: o.workflowId,
        vars: o.vars,
        sessionId: o.sessionId ?? run.session_id,
        parentRunId: run.run_id,
        actorId: run.actor_id ?? undefined,
        runId: o.runId ?? undefined,
      }),
    tick: (runId, maxSteps) => host.tick(runId, maxSteps),
    loadRun: (runId) => host.stores.runs.load(runId),
    readLedger: async (runId) => {
      const out: StepRecord[] = [];
      for (let after = 0;;) {
        const page = await host.stores.ledger.read(runId, after, 1000);
        out.push(...page.items);
        if (page.items.length < 1000) return out;
        after = page.next_after;
      }
    },
    nowIso,
    storeArtifact: (bytes, o) =>
      host.stores.artifacts.store(bytes, {
        run_id: run.run_id,
        content_type: o.content_type,
        filename: o.filename ?? null,
        tags: { ...(run.session_id ? { session_id: run.session_id } : {}), ...o.tags },
      }),
    loadArtifact: (artifactId) => host.stores.artifacts.load(artifactId),
  };
}
