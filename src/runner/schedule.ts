/**
 * POST /runs/schedule: validates the request (contract §3.5), writes the wrapper flow
 * (`scheduled:<uuid>`, schedule_flow.ts) and starts the parent run. Improvement over upstream: a
 * standard `cron` expression (with optional `timezone`) instead of an interval.
 */
import type { BundleHost } from "../bundles/types.ts";
import type { Json, JsonObject } from "../runtime/types.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { isoUtc } from "../util/time.ts";
import { isObject } from "./command_payload.ts";
import { CRON_PLACEHOLDER_INTERVAL } from "./cron_timer.ts";
import { checkCron, nextCronFire } from "./cron.ts";
import { intervalMs, isWholeUnitInterval } from "./interval.ts";
import { buildWrapperFlow } from "./schedule_flow.ts";
import { SCHEDULED_PREFIX } from "./schedule_meta.ts";

export const MAX_DERIVED_REPEATS = 10_000;

/** A rejected schedule request; `status` is the HTTP status to answer with. */
export class ScheduleError extends Error {
  constructor(readonly status: 400 | 404 | 409, message: string) {
    super(message);
    this.name = "ScheduleError";
  }
}

/** What scheduling needs from the gateway (the composition root's Gateway satisfies it). */
export interface ScheduleGateway {
  bundles: BundleHost;
  runtime: Runtime;
}

const bad = (message: string) => new ScheduleError(400, message);

function optString(body: Record<string, unknown>, name: string): string | null {
  const v = body[name];
  if (v === undefined || v === null) return null;
  if (typeof v !== "string") throw bad(`${name} must be a string`);
  return v.trim() === "" ? null : v.trim();
}

function parseTime(value: string, name: string): number {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) {
    throw bad(`${name} must be an ISO-8601 timestamp${name === "start_at" ? ' or "now"' : ""}`);
  }
  return ms;
}

interface Target {
  bundleId: string;
  version: string;
  flowId: string;
  workflowId: string;
}

function resolveTarget(bundles: BundleHost, body: Record<string, unknown>): Target {
  const rawBundle = optString(body, "bundle_id");
  const rawFlow = optString(body, "flow_id");
  if (!rawBundle || !rawFlow) throw bad("bundle_id and flow_id are required");
  let version = optString(body, "bundle_version");
  let [bundleId, idVersion] = rawBundle.split("@", 2) as [string, string | undefined];
  const agree = (v: string | undefined, source: string) => {
    if (!v) return;
    if (version && version !== v) throw bad(`bundle_version '${version}' conflicts with ${source}`);
    version = v;
  };
  agree(idVersion, `bundle_id '${rawBundle}'`);
  let flowId = rawFlow;
  const colon = rawFlow.indexOf(":");
  if (colon > 0) {
    const [prefixId, prefixVersion] = rawFlow.slice(0, colon).split("@", 2) as [string, string | undefined];
    if (prefixId !== bundleId) throw bad(`flow_id '${rawFlow}' does not belong to bundle '${bundleId}'`);
    agree(prefixVersion, `flow_id '${rawFlow}'`);
    flowId = rawFlow.slice(colon + 1);
  }
  bundleId = bundleId.trim();
  if (bundles.versions(bundleId).length === 0) {
    throw new ScheduleError(404, `Bundle '${bundleId}' has no versions loaded`);
  }
  const bundle = bundles.get(bundleId, version ?? undefined);
  if (!bundle) throw new ScheduleError(404, `Bundle '${bundleId}@${version}' not found`);
  const deprecated = bundles.deprecations.isDeprecated(bundleId, flowId);
  if (deprecated) {
    const why = deprecated.reason ? `: ${deprecated.reason}` : "";
    throw new ScheduleError(409, `Workflow '${bundleId}:${flowId}' is deprecated${why}`);
  }
  const resolvedVersion = bundle.manifest.bundle_version;
  const workflowId = `${bundleId}@${resolvedVersion}:${flowId}`;
  if (!bundles.getWorkflow(workflowId)) {
    throw new ScheduleError(404, `Target workflow '${workflowId}' not found`);
  }
  return { bundleId, version: resolvedVersion, flowId, workflowId };
}

export interface Timing {
  /** null = now */
  startAt: string | null;
  interval: string | null;
  repeatCount: number | null;
  repeatUntil: string | null;
  cron: string | null;
  timezone: string | null;
}

/** The timing rules of §3.5 (plus cron); messages are part of the API contract. */
export function parseTiming(body: Record<string, unknown>, now = Date.now()): Timing {
  const rawStart = optString(body, "start_at");
  const startAt = rawStart && rawStart.toLowerCase() !== "now"
    ? isoUtc(new Date(parseTime(rawStart, "start_at")))
    : null;
  let interval = optString(body, "interval");
  const ms = interval === null ? null : intervalMs(interval);
  if (interval !== null && ms === null) {
    throw bad(
      `interval must be a positive duration like 100ms, 0.5s, 15m, 1h or 2d (got ${
        JSON.stringify(interval)
      })`,
    );
  }
  const cron = optString(body, "cron");
  const timezone = optString(body, "timezone");
  let repeatCount: number | null = null;
  const rawCount = body.repeat_count;
  if (rawCount !== undefined && rawCount !== null) {
    if (typeof rawCount !== "number" || !Number.isInteger(rawCount)) {
      throw bad("repeat_count must be an integer");
    }
    if (rawCount <= 0) throw bad("repeat_count must be >= 1");
    repeatCount = rawCount;
  }
  const rawUntil = optString(body, "repeat_until");
  if (cron !== null) {
    if (interval !== null) throw bad("cron cannot be combined with interval");
    if (rawUntil !== null) throw bad("repeat_until cannot be combined with cron; use repeat_count");
    try {
      checkCron(cron, timezone);
    } catch (err) {
      throw bad((err as Error).message);
    }
  } else if (timezone !== null) {
    throw bad("timezone is only used with cron");
  }
  if (repeatCount !== null && repeatCount > 1 && interval === null && cron === null) {
    throw bad("repeat_count > 1 requires interval");
  }
  let repeatUntil: string | null = null;
  if (rawUntil !== null) {
    if (repeatCount !== null) throw bad("repeat_until cannot be combined with repeat_count");
    if (interval === null) throw bad("repeat_until requires interval");
    if (!isWholeUnitInterval(interval)) {
      throw bad(
        "interval must be a whole number of s, m, h or d (like 30s, 15m, 1h, 2d) when repeat_until is used",
      );
    }
    const untilMs = parseTime(rawUntil, "repeat_until");
    const startMs = startAt ? Date.parse(startAt) : now;
    if (untilMs < startMs) throw bad("repeat_until must not be before start_at");
    const derived = 1 + Math.floor((untilMs - startMs) / ms!);
    if (derived > MAX_DERIVED_REPEATS) {
      throw bad(`repeat_until and interval give ${derived} runs; at most ${MAX_DERIVED_REPEATS} are allowed`);
    }
    repeatCount = derived;
    repeatUntil = isoUtc(new Date(untilMs));
  }
  if (repeatCount === 1) interval = null;
  return { startAt, interval, repeatCount, repeatUntil, cron, timezone };
}

/** Validates, persists the wrapper flow, starts the parent run; resolves with its id. */
export async function createScheduledRun(
  gw: ScheduleGateway,
  body: Record<string, unknown>,
): Promise<{ run_id: string }> {
  const target = resolveTarget(gw.bundles, body);
  const timing = parseTiming(body);
  const inputData = body.input_data ?? {};
  if (!isObject(inputData)) throw bad("input_data must be an object");
  const share = body.share_context ?? true;
  if (typeof share !== "boolean") throw bad("share_context must be a boolean");
  const sessionId = optString(body, "session_id");

  const uuid = crypto.randomUUID();
  const flowId = `${SCHEDULED_PREFIX}${uuid}`;
  const sessionPrefix = share ? null : flowId;
  const firstFire = timing.cron
    ? nextCronFire(timing.cron, timing.timezone, timing.startAt ? new Date(timing.startAt) : new Date())
    : null;
  if (timing.cron && !firstFire) throw bad(`cron ${JSON.stringify(timing.cron)} never fires`);
  await gw.bundles.saveDynamicFlow(buildWrapperFlow({
    flowId,
    targetWorkflowId: target.workflowId,
    startSchedule: firstFire ? isoUtc(firstFire) : timing.startAt ?? "0s",
    intervalSchedule: timing.cron ? CRON_PLACEHOLDER_INTERVAL : timing.interval,
    repeatCount: timing.repeatCount,
    sessionPrefix,
  }));

  const schedule: JsonObject = {
    kind: "scheduled_run",
    target_workflow_id: target.workflowId,
    target_bundle_id: target.bundleId,
    target_bundle_version: target.version,
    target_bundle_ref: `${target.bundleId}@${target.version}`,
    target_registry_scope: "private",
    target_host_bundle_id: target.bundleId,
    target_flow_id: target.flowId,
    start_at: timing.startAt,
    interval: timing.interval,
    repeat_count: timing.repeatCount,
    repeat_until: timing.repeatUntil,
    share_context: share,
    session_prefix: sessionPrefix,
    created_at: isoUtc(),
  };
  if (timing.cron) Object.assign(schedule, { cron: timing.cron, timezone: timing.timezone });
  const vars: JsonObject = { vars: inputData, _meta: { schedule } };
  if (sessionPrefix) vars.session_prefix = sessionPrefix;
  const prompt: Json | undefined = inputData.prompt;
  if (typeof prompt === "string" && prompt.trim() !== "") vars.prompt = prompt.trim();

  const run = await gw.runtime.start({ workflowId: flowId, vars, sessionId, actorId: "gateway" });
  return { run_id: run.run_id };
}
