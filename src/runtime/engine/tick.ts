/**
 * `tick` (runtime-model.md §1.6): advance a run until it waits, ends, or `maxSteps` steps ran.
 * Every step is checkpointed; before committing, the persisted run is re-read so a concurrent cancel
 * or pause wins. Handler errors fail the run with a failed ledger record naming the error.
 */
import type { NodeContext, StepPlan, WorkflowSpec } from "../spec.ts";
import type { RunState } from "../types.ts";
import { isTerminal } from "../types.ts";
import { nowIso } from "../../util/time.ts";
import { errorText } from "../../util/log.ts";
import { UnsupportedNodeError } from "../errors.ts";
import type { EngineHost } from "./host.ts";
import { executeEffect } from "./effects.ts";
import { objectAt, setPath } from "./json.ts";
import { LedgerIndex } from "./ledger_index.ts";
import { appendLlmTurn } from "./llm_context.ts";
import { isPaused, noteTokenUsage } from "./run_vars.ts";
import { completeRun, failRun, loadRun, saveRun } from "./transitions.ts";

export const DEFAULT_MAX_STEPS = 100;

const NODE_CONTEXT: NodeContext = { nowIso };

export async function tickRun(
  host: EngineHost,
  runId: string,
  maxSteps = DEFAULT_MAX_STEPS,
): Promise<RunState> {
  let run = await loadRun(host, runId);
  if (isTerminal(run.status) || isPaused(run)) return run;
  if (run.status === "waiting") {
    const wait = run.waiting;
    if (wait?.reason !== "until" || wait.until === null || nowIso() < wait.until) return run;
    if (wait.resume_to_node === null) {
      return await completeRun(host, run, { success: true, result: { until: wait.until, ready: true } }, {
        withRecord: false,
      });
    }
    run.status = "running";
    run.current_node = wait.resume_to_node;
    run.waiting = null;
    await saveRun(host, run);
  }
  let spec: WorkflowSpec | undefined;
  try {
    spec = host.spec(run.workflow_id);
  } catch (err) {
    return await failRun(host, run, errorText(err), { nodeError: true });
  }
  if (!spec) return await failRun(host, run, `Unknown workflow '${run.workflow_id}'`, { nodeError: true });
  let index: LedgerIndex | undefined;
  for (let step = 0; step < maxSteps; step++) {
    const fresh = await host.stores.runs.load(runId);
    if (!fresh || fresh.status !== "running" || isPaused(fresh)) return fresh ?? run;
    run = fresh;
    const nodeId = run.current_node;
    const handler = nodeId === null ? undefined : spec.nodes[nodeId];
    if (!handler || nodeId === null) {
      return await failRun(host, run, `Unknown node '${nodeId}' in workflow '${run.workflow_id}'`, {
        nodeError: true,
      });
    }
    let plan: StepPlan;
    try {
      plan = await handler(run, NODE_CONTEXT);
    } catch (err) {
      const message = err instanceof UnsupportedNodeError ? err.message : errorText(err);
      return await failRun(host, run, message, { nodeError: true });
    }
    const temp = objectAt(run.vars, "_temp");
    temp.prev_node_id = plan.node_id;
    temp.prev_next_node = plan.next_node ?? null;
    if (plan.complete_output) {
      return await completeRun(host, run, plan.complete_output, { nodeId: plan.node_id, withRecord: true });
    }
    if (!plan.effect) {
      if (!plan.next_node) {
        return await failRun(host, run, `Node '${nodeId}' returned neither an effect nor a next node`, {
          nodeError: true,
        });
      }
      run.current_node = plan.next_node;
      await saveRun(host, run);
      continue;
    }
    index ??= await LedgerIndex.load(host.stores.ledger, runId);
    const outcome = await executeEffect(host, {
      run,
      nodeId: plan.node_id,
      effect: plan.effect,
      nextNode: plan.next_node ?? null,
      index,
    });
    const after = await host.stores.runs.load(runId);
    if (!after || after.status !== "running" || isPaused(after)) return after ?? run;
    if (outcome.status === "failed") return await failRun(host, run, outcome.error, { nodeError: false });
    if (outcome.status === "waiting") {
      run.status = "waiting";
      run.waiting = outcome.wait;
      await saveRun(host, run);
      return run;
    }
    if (plan.effect.result_key) setPath(run.vars, plan.effect.result_key, outcome.result);
    if (plan.effect.type === "llm_call") {
      noteTokenUsage(run.vars, outcome.result);
      appendLlmTurn(run, plan.node_id, plan.effect, outcome.result);
    }
    if (!plan.next_node) {
      return await completeRun(host, run, { success: true, result: outcome.result }, { withRecord: false });
    }
    run.current_node = plan.next_node;
    await saveRun(host, run);
  }
  return run;
}
