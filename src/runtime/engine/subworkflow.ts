/** START_SUBWORKFLOW (runtime-model.md §1.8) and resuming parents when a child run ends. */
import type { EffectHandler } from "../spec.ts";
import type { Json, JsonObject, RunState } from "../types.ts";
import { isTerminal } from "../types.ts";
import type { EngineHost } from "./host.ts";
import { deterministicUuid } from "./idempotency.ts";
import { getPath, isObject } from "./json.ts";
import { isPaused } from "./run_vars.ts";
import { makeWait } from "./waits.ts";

const INHERITED_WORKSPACE_KEYS = [
  "workspace_root",
  "workspace_access_mode",
  "workspace_allowed_paths",
  "workspace_ignored_paths",
];

export const subworkflowWaitKey = (childRunId: string): string => `subworkflow:${childRunId}`;

export function startSubworkflowHandler(host: EngineHost): EffectHandler {
  return async ({ run, effect, step_id, services }) => {
    const p = effect.payload;
    const workflowId = typeof p.workflow_id === "string" ? p.workflow_id : "";
    if (!workflowId) return { status: "failed", error: "start_subworkflow requires 'workflow_id'" };
    if (!host.spec(workflowId)) return { status: "failed", error: `Unknown workflow '${workflowId}'` };
    const vars: JsonObject = isObject(p.vars) ? structuredClone(p.vars) : {};
    for (const key of INHERITED_WORKSPACE_KEYS) {
      if (vars[key] === undefined && run.vars[key] !== undefined) vars[key] = structuredClone(run.vars[key]);
    }
    const childId = deterministicUuid(`${run.run_id}:${step_id}`);
    const child = (await services.loadRun(childId)) ??
      (await services.startChild({
        workflowId,
        vars,
        sessionId: typeof p.session_id === "string" && p.session_id ? p.session_id : run.session_id,
        runId: childId,
      }));
    const isAsync = p.async === true;
    const includeTraces = p.include_traces === true;
    const details: JsonObject = { sub_run_id: child.run_id, sub_workflow_id: workflowId };
    if (isAsync && p.wait === true) {
      return {
        status: "waiting",
        wait: makeWait({
          reason: "subworkflow",
          wait_key: subworkflowWaitKey(child.run_id),
          resume_to_node: typeof p.resume_to_node === "string" ? p.resume_to_node : null,
          details: { ...details, async: true, include_traces: includeTraces },
        }),
      };
    }
    if (isAsync) return { status: "completed", result: { sub_run_id: child.run_id, async: true } };
    const ticked = await services.tick(child.run_id);
    if (ticked.status === "completed") {
      return { status: "completed", result: childResult(ticked, includeTraces) };
    }
    if (ticked.status === "failed" || ticked.status === "cancelled") {
      return { status: "failed", error: ticked.error ?? `Subworkflow ${child.run_id} ${ticked.status}` };
    }
    return {
      status: "waiting",
      wait: makeWait({
        reason: "subworkflow",
        wait_key: subworkflowWaitKey(child.run_id),
        details: {
          ...details,
          include_traces: includeTraces,
          sub_waiting: ticked.waiting as unknown as Json,
        },
      }),
    };
  };
}

/** `{sub_run_id, output, node_traces?}`; non-completed children get `success:false`, `error`, `cancelled`. */
export function childResult(child: RunState, includeTraces: boolean): JsonObject {
  let output: JsonObject = child.output ? { ...child.output } : {};
  if (child.status !== "completed") {
    output = { ...output, success: false, error: child.error ?? child.status };
    if (child.status === "cancelled") output.cancelled = true;
  }
  const result: JsonObject = { sub_run_id: child.run_id, output };
  if (includeTraces) result.node_traces = getPath(child.vars, "_runtime.node_traces") ?? {};
  return result;
}

/** Resumes the parent waiting on `childRunId` once the child is terminal; returns the resumed run ids. */
export async function resumeParentsOf(host: EngineHost, childRunId: string): Promise<string[]> {
  const child = await host.stores.runs.load(childRunId);
  if (!child || !isTerminal(child.status) || !child.parent_run_id) return [];
  const parent = await host.stores.runs.load(child.parent_run_id);
  const wait = parent?.waiting;
  if (!parent || parent.status !== "waiting" || isPaused(parent) || wait?.reason !== "subworkflow") return [];
  if (getPath(wait.details ?? {}, "sub_run_id") !== childRunId) return [];
  const includeTraces = getPath(wait.details ?? {}, "include_traces") === true;
  await host.resume(parent.run_id, {
    waitKey: wait.wait_key,
    payload: childResult(child, includeTraces),
    maxSteps: 0,
  });
  return [parent.run_id];
}
