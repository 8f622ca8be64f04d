/**
 * `tick` (runtime-model.md §1.6): advance a run until it waits, ends, or `maxSteps` steps ran.
 * Every step is checkpointed (consecutive steps without an effect together, see planSection); before
 * committing, the persisted run is re-read so a concurrent cancel or pause wins (inside the caller's
 * checkpoint section, so one cannot land between the re-read and the write). Handler errors fail the
 * run with a failed ledger record naming the error.
 */
import type { EffectOutcome, NodeContext, StepPlan, WorkflowSpec } from "../spec.ts";
import type { Effect, RunState } from "../types.ts";
import { isTerminal } from "../types.ts";
import { nowIso } from "../../util/time.ts";
import { errorText } from "../../util/log.ts";
import { UnsupportedNodeError } from "../errors.ts";
import type { EngineHost } from "./host.ts";
import type { TickOptions } from "../runtime.ts";
import { executeEffect } from "./effects.ts";
import { objectAt, setPath } from "./json.ts";
import { LedgerIndex } from "./ledger_index.ts";
import { appendLlmTurn } from "./llm_context.ts";
import { isPaused, noteTokenUsage } from "./run_vars.ts";
import { completeRun, failRun, loadRun, saveRun } from "./transitions.ts";

export const DEFAULT_MAX_STEPS = 100;

const NODE_CONTEXT: NodeContext = { nowIso };

/**
 * Steps without an effect planned in one write section before it is saved: a pause or cancel waits
 * at most this many (CPU-only) steps of a long tick to land.
 */
const MAX_CHAINED_STEPS = 16;

/** What the first half of a step decided: the tick ends, goes on to the next step, or runs an effect. */
type Planned = { done: RunState } | { next: true } | { effect: Effect; plan: StepPlan };

export async function tickRun(
  host: EngineHost,
  runId: string,
  maxSteps = DEFAULT_MAX_STEPS,
  options: TickOptions = {},
): Promise<RunState> {
  const checkpoint = options.checkpoint ?? (<T>(fn: () => Promise<T>) => fn());
  const unchanged = options.unchanged ?? (() => false);
  let run!: RunState;
  let spec: WorkflowSpec | undefined;
  let index: LedgerIndex | undefined;

  /** The tick's start: ends it early, or leaves `run` running (a due `until` wait resumed). */
  const begin = async (): Promise<RunState | null> => {
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
    try {
      spec = host.spec(run.workflow_id);
    } catch (err) {
      return await failRun(host, run, errorText(err), { nodeError: true });
    }
    if (!spec) return await failRun(host, run, `Unknown workflow '${run.workflow_id}'`, { nodeError: true });
    return null;
  };

  /**
   * The first half of a step: re-read the run (not when `chained` after a step of this section), run
   * its node; a step without an effect only advances `run` (the section saves it, see planSection).
   */
  const planStep = async (step: number, chained: boolean): Promise<Planned> => {
    if (step === 0) {
      run = options.run && unchanged() ? options.run : await loadRun(host, runId);
      const ended = await begin();
      if (ended) return { done: ended };
    } else if (!chained) {
      const fresh = unchanged() ? run : await host.stores.runs.load(runId);
      if (!fresh || fresh.status !== "running" || isPaused(fresh)) return { done: fresh ?? run };
      run = fresh;
    }
    const nodeId = run.current_node;
    const handler = nodeId === null ? undefined : spec!.nodes[nodeId];
    if (!handler || nodeId === null) {
      const error = `Unknown node '${nodeId}' in workflow '${run.workflow_id}'`;
      return { done: await failRun(host, run, error, { nodeError: true }) };
    }
    let plan: StepPlan;
    try {
      plan = await handler(run, NODE_CONTEXT);
    } catch (err) {
      const message = err instanceof UnsupportedNodeError ? err.message : errorText(err);
      return { done: await failRun(host, run, message, { nodeError: true }) };
    }
    const temp = objectAt(run.vars, "_temp");
    temp.prev_node_id = plan.node_id;
    temp.prev_next_node = plan.next_node ?? null;
    if (plan.complete_output) {
      const output = plan.complete_output;
      return { done: await completeRun(host, run, output, { nodeId: plan.node_id, withRecord: true }) };
    }
    if (plan.effect) return { effect: plan.effect, plan };
    if (!plan.next_node) {
      const error = `Node '${nodeId}' returned neither an effect nor a next node`;
      return { done: await failRun(host, run, error, { nodeError: true }) };
    }
    run.current_node = plan.next_node;
    return { next: true };
  };

  /**
   * Steps from `first` inside one write section. Steps without an effect (routing, variables) run on
   * while no other writer can have touched the run (`unchanged`: nothing to re-read), and their
   * checkpoint is the section's one write: the run's end, wait or failure, or a save of the run as it
   * stood before a step that plans an effect (so what is durable when an effect starts is what it
   * was when every step was saved), or after MAX_CHAINED_STEPS steps or the tick's step limit. A
   * start → end run is then one write, not two; a crash before it re-runs those steps from the last
   * checkpoint, as it would have re-run the last one.
   */
  const planSection = async (first: number): Promise<{ planned: Planned; steps: number }> => {
    let step = first;
    for (;;) {
      const chained = step > first;
      const before = chained ? structuredClone(run) : null;
      const planned = await planStep(step, chained);
      step++;
      if ("effect" in planned && before) await saveRun(host, before);
      if (!("next" in planned)) return { planned, steps: step - first };
      if (step >= maxSteps || step - first >= MAX_CHAINED_STEPS || !unchanged()) {
        await saveRun(host, run);
        return { planned, steps: step - first };
      }
    }
  };

  /** The second half of a step with an effect: re-read the run, checkpoint the effect's outcome. */
  const finishStep = async (
    plan: StepPlan,
    effect: Effect,
    outcome: EffectOutcome,
  ): Promise<RunState | null> => {
    const after = unchanged() ? run : await host.stores.runs.load(runId);
    if (!after || after.status !== "running" || isPaused(after)) return after ?? run;
    if (outcome.status === "failed") return await failRun(host, run, outcome.error, { nodeError: false });
    if (outcome.status === "waiting") {
      run.status = "waiting";
      run.waiting = outcome.wait;
      await saveRun(host, run);
      return run;
    }
    if (effect.result_key) setPath(run.vars, effect.result_key, outcome.result);
    if (effect.type === "llm_call") {
      noteTokenUsage(run.vars, outcome.result);
      appendLlmTurn(run, plan.node_id, effect, outcome.result);
    }
    if (!plan.next_node) {
      return await completeRun(host, run, { success: true, result: outcome.result }, { withRecord: false });
    }
    run.current_node = plan.next_node;
    await saveRun(host, run);
    return null;
  };

  if (maxSteps <= 0) {
    return await checkpoint(async () => {
      run = await loadRun(host, runId);
      return (await begin()) ?? run;
    });
  }
  for (let step = 0; step < maxSteps;) {
    // Each half of a step re-reads the run and writes its checkpoint inside one section: a pause or
    // cancel applied meanwhile is seen there, never overwritten. The effect itself runs outside.
    const { planned, steps } = await checkpoint(() => planSection(step));
    step += steps;
    if ("done" in planned) return planned.done;
    if ("next" in planned) continue;
    const { effect, plan } = planned;
    index ??= await LedgerIndex.load(host.stores.ledger, runId);
    const outcome = await executeEffect(host, {
      run,
      nodeId: plan.node_id,
      effect,
      nextNode: plan.next_node ?? null,
      index,
    });
    const done = await checkpoint(() => finishStep(plan, effect, outcome));
    if (done) return done;
  }
  return run;
}
