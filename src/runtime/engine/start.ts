/** Creating runs: vars seeding (`_limits`, `_runtime` hand-off), session defaults, event-listener children. */
import type { StartRunOptions } from "../runtime.ts";
import type { JsonObject, RunState } from "../types.ts";
import { nowIso } from "../../util/time.ts";
import { RuntimeError } from "../errors.ts";
import type { EngineHost } from "./host.ts";
import { newId } from "./idempotency.ts";
import { isObject } from "./json.ts";
import { seedLimits } from "./run_vars.ts";

/** `runtimeSeed`: `_runtime` keys every new root run gets unless already present (config hand-off). */
export async function startRun(
  host: EngineHost,
  options: StartRunOptions,
  runtimeSeed: JsonObject,
): Promise<RunState> {
  const spec = specOrThrow(host, options.workflowId);
  if (!spec) throw new RuntimeError("unknown_workflow", `Unknown workflow '${options.workflowId}'`);
  const runId = options.runId || newId();
  if (options.runId && (await host.stores.runs.load(runId))) {
    throw new RuntimeError("invalid_request", `Run already exists: ${runId}`);
  }
  const vars: JsonObject = structuredClone(options.vars);
  seedLimits(vars);
  const runtime: JsonObject = isObject(vars._runtime) ? vars._runtime : {};
  if (!options.parentRunId) {
    for (const [k, v] of Object.entries(runtimeSeed)) {
      if (runtime[k] === undefined) runtime[k] = structuredClone(v);
    }
  }
  if (Object.keys(runtime).length > 0) vars._runtime = runtime;
  let sessionId = options.sessionId ?? null;
  if (!sessionId && options.parentRunId) {
    sessionId = (await host.stores.runs.load(options.parentRunId))?.session_id ?? null;
  }
  const now = nowIso();
  const run: RunState = {
    run_id: runId,
    workflow_id: options.workflowId,
    status: "running",
    current_node: spec.entry_node,
    vars,
    waiting: null,
    output: null,
    error: null,
    created_at: now,
    updated_at: now,
    actor_id: options.actorId ?? "gateway",
    session_id: sessionId || runId,
    parent_run_id: options.parentRunId ?? null,
  };
  await host.stores.runs.save(run);
  for (const listenerId of spec.event_listeners ?? []) {
    const listener = await startRun(host, {
      workflowId: listenerId,
      vars: publicVars(options.vars),
      sessionId: run.session_id,
      parentRunId: run.run_id,
      actorId: run.actor_id ?? undefined,
    }, runtimeSeed);
    await host.tick(listener.run_id);
  }
  return run;
}

const publicVars = (vars: JsonObject): JsonObject =>
  Object.fromEntries(Object.entries(vars).filter(([k]) => !k.startsWith("_")));

function specOrThrow(host: EngineHost, workflowId: string) {
  try {
    return host.spec(workflowId);
  } catch (err) {
    throw new RuntimeError("invalid_workflow", err instanceof Error ? err.message : String(err));
  }
}
