/** `GET /runs/{run_id}/input_data`: what the run was started with, in the entry flow's terms. */
import type { BundleRegistry } from "../bundles/types.ts";
import { entrypointInputs } from "../bundles/inspect.ts";
import type { Json, JsonObject, RunState } from "../runtime/types.ts";

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === "object" && !Array.isArray(v);
const WORKSPACE_KEYS = [
  "workspace_root",
  "workspace_access_mode",
  "workspace_allowed_paths",
  "workspace_ignored_paths",
];

/** Splits `bundle@ver:flow` (the flow part is after the last `:`). */
export function splitWorkflowId(workflowId: string): { prefix: string | null; flowId: string } {
  const i = workflowId.lastIndexOf(":");
  return i < 0
    ? { prefix: null, flowId: workflowId }
    : { prefix: workflowId.slice(0, i), flowId: workflowId.slice(i + 1) };
}

/** The client-visible vars: every key not starting with `_`. */
export function publicVars(vars: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(vars)) if (!k.startsWith("_")) out[k] = v;
  return out;
}

export function runInputData(run: RunState, registry: BundleRegistry): JsonObject {
  let workflowId = run.workflow_id;
  let vars = run.vars;
  const schedule = isObject(run.vars._meta) && isObject(run.vars._meta.schedule)
    ? run.vars._meta.schedule
    : null;
  if (schedule?.kind === "scheduled_run" && typeof schedule.target_workflow_id === "string") {
    workflowId = schedule.target_workflow_id;
    vars = isObject(run.vars.vars) ? run.vars.vars : {};
  }
  const { prefix, flowId } = splitWorkflowId(workflowId);
  const flow = registry.getWorkflow(workflowId);
  const pins = flow ? entrypointInputs(flow).map((p) => p.id) : [];
  const workspace: JsonObject = {};
  for (const key of WORKSPACE_KEYS) if (run.vars[key] !== undefined) workspace[key] = run.vars[key] as Json;

  const out: JsonObject = {
    run_id: run.run_id,
    workflow_id: workflowId,
    bundle_id: prefix,
    flow_id: prefix === null ? null : flowId,
    pin_ids: pins,
    input_data: {},
    workspace,
  };
  if (pins.length > 0) {
    const filtered: JsonObject = {};
    for (const pin of pins) if (vars[pin] !== undefined) filtered[pin] = vars[pin];
    out.input_data = filtered;
    if (prefix !== null && prefix.includes("@")) {
      const at = prefix.indexOf("@");
      out.bundle_id = prefix.slice(0, at);
      out.bundle_version = prefix.slice(at + 1);
    }
  } else {
    out.input_data = publicVars(vars);
  }
  return out;
}
