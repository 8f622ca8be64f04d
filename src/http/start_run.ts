/**
 * `POST /runs/start`, end to end: resolve the workflow, apply input hygiene, validate artifact
 * refs, create the session owner run, start the run, snapshot its workflow, nudge the runner.
 */
import { resolveStartTarget, StartTargetError } from "../bundles/start_target.ts";
import { isDraftVersion } from "../bundles/versions.ts";
import { describeUnrunnable, unrunnableInTree } from "../bundles/runnable.ts";
import type { Gateway } from "../gateway.ts";
import type { JsonObject } from "../runtime/types.ts";
import { validateArtifactRefs } from "./artifact_refs.ts";
import { HttpError } from "./errors.ts";
import { SNAPSHOT_KIND } from "./history_bundle.ts";
import { sanitizeRunLifecycle } from "./run_lifecycle.ts";
import { createWorkspace, prepareRunVars } from "./run_vars.ts";
import { ensureSessionMemoryRun } from "./session_memory.ts";

export interface StartRequest {
  registry_scope?: string | null;
  bundle_id?: string | null;
  bundle_version?: string | null;
  flow_id?: string | null;
  input_data?: Record<string, unknown> | null;
  thinking?: boolean | string | null;
  run_lifecycle?: Record<string, unknown> | null;
  session_id?: string | null;
}

export interface ResolvedStart {
  workflowId: string;
  vars: JsonObject;
  sessionId: string | null;
  createdWorkspace: string | null;
}

/** Every check that can reject the request; nothing is written. */
export async function prepareStart(gw: Gateway, req: StartRequest): Promise<ResolvedStart> {
  const scope = req.registry_scope?.trim();
  if (scope && scope !== "private") {
    throw new HttpError(
      400,
      `registry_scope '${scope}' is not supported (only 'private' bundles are served)`,
    );
  }
  let target;
  try {
    target = resolveStartTarget(gw.bundles, req);
  } catch (err) {
    if (err instanceof StartTargetError) throw new HttpError(err.status, err.message);
    throw new HttpError(400, `Failed to start run: ${err instanceof Error ? err.message : String(err)}`);
  }
  const unrunnable = unrunnableInTree(target.workflowId, (id) => gw.bundles.getWorkflow(id));
  if (unrunnable.length > 0) {
    throw new HttpError(400, `Cannot start run: ${unrunnable.map(describeUnrunnable).join("; ")}`);
  }
  const version = target.bundle?.manifest.bundle_version;
  if (
    version && isDraftVersion(version) && sanitizeRunLifecycle(req.run_lifecycle)?.purpose !== "draft_test"
  ) {
    throw new HttpError(400, "draft bundle versions require run_lifecycle.purpose='draft_test'");
  }
  const sessionId = req.session_id?.trim() || null;
  const input = (req.input_data ?? {}) as JsonObject;
  await validateArtifactRefs(input, gw.stores.artifacts, sessionId);
  const { vars, createdWorkspace } = prepareRunVars(
    { input_data: input, thinking: req.thinking, run_lifecycle: req.run_lifecycle },
    gw.config,
  );
  return { workflowId: target.workflowId, vars, sessionId, createdWorkspace };
}

/** The snapshot bytes per VisualFlow object (a bundle reload hands out new objects). */
const snapshotBytes = new WeakMap<object, Uint8Array>();

/**
 * Creates the run under `runId` (status `running`; the runner advances it). Its workspace dir and
 * marker are made first (no fsync of their own, see createWorkspace); then the run, its workflow
 * snapshot and (for a new session) the session's owner run are written concurrently — on SQLite
 * their rows land in the same group-commit transaction, so a start is one WAL fsync (plus a blob
 * file only the first time a workflow's bytes are seen in this process).
 */
export async function startPrepared(gw: Gateway, start: ResolvedStart, runId: string): Promise<void> {
  const flow = gw.bundles.getWorkflow(start.workflowId);
  let bytes = flow && snapshotBytes.get(flow);
  if (flow && !bytes) snapshotBytes.set(flow, bytes = new TextEncoder().encode(JSON.stringify(flow)));
  if (start.createdWorkspace) createWorkspace(start.createdWorkspace, runId);
  const [owner, started, snapshot] = await Promise.allSettled([
    start.sessionId && ensureSessionMemoryRun(gw.stores.runs, start.sessionId),
    gw.runtime.start({ workflowId: start.workflowId, vars: start.vars, sessionId: start.sessionId, runId }),
    bytes && gw.stores.artifacts.store(bytes, {
      run_id: runId,
      content_type: "application/json",
      tags: { kind: SNAPSHOT_KIND, workflow_id: start.workflowId },
      filename: "workflow_snapshot.json",
    }),
  ]);
  if (started.status === "rejected") {
    // No run: no snapshot naming it either.
    if (snapshot.status === "fulfilled" && snapshot.value) {
      await gw.stores.artifacts.delete(snapshot.value.artifact_id).catch(() => {});
    }
    if (start.createdWorkspace) {
      await Deno.remove(start.createdWorkspace, { recursive: true }).catch(() => {});
    }
    throw started.reason;
  }
  if (snapshot.status === "rejected") throw snapshot.reason;
  if (owner.status === "rejected") throw owner.reason;
  gw.runner?.kick();
}
