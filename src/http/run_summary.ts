/** The public views of a run: the summary (GET /runs/{id}) and the lighter list item (GET /runs). */
import type { Json, JsonObject, RunState } from "../runtime/types.ts";
import { sanitizeRunLifecycle } from "./run_lifecycle.ts";

const obj = (v: Json | undefined): JsonObject | null =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? v : null;
const str = (v: Json | undefined): string | null => (typeof v === "string" ? v : null);

function control(run: RunState) {
  const c = obj(obj(run.vars._runtime)?.control);
  return {
    paused: c?.paused === true,
    pause_reason: str(c?.pause_reason),
    paused_at: str(c?.paused_at),
    resumed_at: str(c?.resumed_at),
  };
}

function scheduleMeta(run: RunState): JsonObject | null {
  const s = obj(obj(run.vars._meta)?.schedule);
  return s?.kind === "scheduled_run" ? s : null;
}

export const isScheduledRun = (run: RunState): boolean =>
  run.workflow_id.startsWith("scheduled:") || scheduleMeta(run) !== null;

function schedule(run: RunState): JsonObject | null {
  const s = scheduleMeta(run);
  if (!s) return null;
  const pick = (k: string): Json => s[k] ?? null;
  return {
    kind: "scheduled_run",
    interval: pick("interval"),
    cron: pick("cron"),
    timezone: pick("timezone"),
    repeat_count: pick("repeat_count"),
    repeat_until: pick("repeat_until"),
    start_at: pick("start_at"),
    share_context: pick("share_context"),
    target_workflow_id: pick("target_workflow_id"),
    target_bundle_ref: pick("target_bundle_ref"),
    target_flow_id: pick("target_flow_id"),
    created_at: pick("created_at"),
    updated_at: pick("updated_at"),
  };
}

function limits(run: RunState): JsonObject | null {
  const l = obj(run.vars._limits);
  if (!l) return null;
  const used = typeof l.estimated_tokens_used === "number" ? l.estimated_tokens_used : 0;
  const max = typeof l.max_tokens === "number" ? l.max_tokens : null;
  const pct = max && max > 0 ? Math.round((used / max) * 1000) / 10 : 0;
  return {
    tokens: {
      estimated_used: used,
      max_tokens: max,
      max_input_tokens: typeof l.max_input_tokens === "number" ? l.max_input_tokens : null,
      pct,
      warn_tokens_pct: typeof l.warn_tokens_pct === "number" ? l.warn_tokens_pct : 80,
    },
  };
}

function flowWarnings(run: RunState): string[] | null {
  const w = run.vars._flow_warnings ?? obj(run.vars._runtime)?.flow_warnings;
  if (!Array.isArray(w)) return null;
  const list = w.filter((x): x is string => typeof x === "string" && x !== "");
  return list.length ? list : null;
}

export function runLifecycle(run: RunState): JsonObject | null {
  return sanitizeRunLifecycle(run.vars._run_lifecycle);
}

export const isDraftRun = (run: RunState): boolean => runLifecycle(run)?.purpose === "draft_test";

/** The checkpoint's identity and state fields, shared by the summary and the history bundle. */
export function runCore(run: RunState): JsonObject {
  return {
    run_id: run.run_id,
    workflow_id: run.workflow_id,
    status: run.status,
    current_node: run.current_node,
    created_at: run.created_at,
    updated_at: run.updated_at,
    actor_id: run.actor_id,
    session_id: run.session_id,
    parent_run_id: run.parent_run_id,
    error: run.error,
  };
}

/** Full summary; never exposes `vars`. */
export function runSummary(run: RunState): JsonObject {
  const w = run.waiting;
  return {
    ...runCore(run),
    flow_warnings: flowWarnings(run),
    ...control(run),
    waiting: w
      ? {
        reason: w.reason,
        wait_key: w.wait_key,
        until: w.until,
        prompt: w.prompt,
        choices: w.choices,
        allow_free_text: w.allow_free_text,
        details: w.details,
      }
      : null,
    is_scheduled: isScheduledRun(run),
    schedule: schedule(run),
    limits: limits(run),
    run_lifecycle: runLifecycle(run),
    is_draft: isDraftRun(run),
  };
}

/** List item: the upstream index view (no current_node/error/schedule detail, waiting reduced). */
export function runListItem(run: RunState): JsonObject {
  const waiting: JsonObject | null = run.waiting
    ? { reason: run.waiting.reason, ...(run.waiting.until ? { until: run.waiting.until } : {}) }
    : null;
  return {
    run_id: run.run_id,
    workflow_id: run.workflow_id,
    status: run.status,
    current_node: null,
    created_at: run.created_at,
    updated_at: run.updated_at,
    actor_id: run.actor_id,
    session_id: run.session_id,
    parent_run_id: run.parent_run_id,
    error: null,
    ...control(run),
    waiting,
    is_scheduled: isScheduledRun(run),
    schedule: null,
    limits: limits(run),
    run_lifecycle: runLifecycle(run),
    is_draft: isDraftRun(run),
  };
}
