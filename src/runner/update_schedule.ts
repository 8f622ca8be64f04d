/**
 * The `update_schedule` command (§5.3): change the interval of a recurrent scheduled parent — or,
 * for a cron schedule (our improvement), its cron expression / timezone.
 */
import type { VisualFlow } from "../bundles/types.ts";
import type { CommandRecord, JsonObject, RunState } from "../runtime/types.ts";
import { isoUtc, nowIso } from "../util/time.ts";
import { CommandError } from "./command_errors.ts";
import { isObject, optionalBool, optionalString } from "./command_payload.ts";
import { markCronTimed } from "./cron_timer.ts";
import { checkCron, nextCronFire } from "./cron.ts";
import type { RunnerDeps } from "./deps.ts";
import { intervalMs } from "./interval.ts";
import { alreadyDone, markDone, RunNotFoundError, runtimeVars } from "./run_once.ts";
import { scheduleMeta, WAIT_INTERVAL_NODE } from "./schedule_meta.ts";
import { findRoot } from "./tree.ts";

export type ScheduleUpdate =
  | { kind: "interval"; interval: string; ms: number; applyImmediately: boolean }
  | { kind: "cron"; cron: string; timezone: string | null; applyImmediately: boolean };

export function parseScheduleUpdate(payload: JsonObject): ScheduleUpdate {
  const applyImmediately = optionalBool(payload, "apply_immediately", true);
  const cron = optionalString(payload, "cron");
  if (cron) {
    const timezone = optionalString(payload, "timezone");
    try {
      checkCron(cron, timezone);
    } catch (err) {
      throw new CommandError(`update_schedule ${(err as Error).message}`);
    }
    return { kind: "cron", cron, timezone, applyImmediately };
  }
  const interval = optionalString(payload, "interval", "schedule");
  if (!interval) throw new CommandError("update_schedule requires payload.interval (or payload.cron)");
  const ms = intervalMs(interval);
  if (ms === null) {
    throw new CommandError(
      `update_schedule interval must be a positive duration like 100ms, 0.5s, 15m, 1h or 2d (got ${
        JSON.stringify(interval)
      })`,
    );
  }
  return { kind: "interval", interval: interval.trim(), ms, applyImmediately };
}

/** The wrapper flow with `wait_interval`'s schedule replaced (a copy; the input is not changed). */
export function withInterval(flow: VisualFlow, interval: string): VisualFlow {
  const copy = structuredClone(flow);
  const node = copy.nodes.find((n) => n.id === WAIT_INTERVAL_NODE);
  if (!node) throw new CommandError(`scheduled flow '${flow.id}' has no ${WAIT_INTERVAL_NODE} node`);
  const config = isObject(node.data.eventConfig) ? node.data.eventConfig : {};
  node.data.eventConfig = { ...config, schedule: interval };
  return copy;
}

/** Runs `fn` while holding the runner's per-run lock of `runId`. */
export type WithRun = <T>(runId: string, fn: () => Promise<T>) => Promise<T>;

/** Resolves the scheduled root of `cmd.run_id` and updates it under its run lock. */
export async function applyScheduleUpdate(
  deps: RunnerDeps,
  cmd: CommandRecord,
  withRun: WithRun,
): Promise<void> {
  const update = parseScheduleUpdate(cmd.payload);
  const target = await deps.stores.runs.load(cmd.run_id);
  if (!target) throw new RunNotFoundError(cmd.run_id);
  const rootId = (await findRoot(deps.stores.runs, target)).run_id;
  await withRun(rootId, async () => {
    const root = await deps.stores.runs.load(rootId);
    if (!root) throw new RunNotFoundError(rootId);
    await updateScheduledRoot(deps, cmd, update, root);
  });
}

async function updateScheduledRoot(
  deps: RunnerDeps,
  cmd: CommandRecord,
  update: ScheduleUpdate,
  root: RunState,
): Promise<void> {
  const meta = scheduleMeta(root);
  const has = (key: string) => typeof meta?.[key] === "string" && meta[key] !== "";
  if (!has("interval") && !has("cron")) {
    throw new CommandError(`run '${cmd.run_id}' is not part of a recurrent scheduled run`);
  }
  if (update.kind === "cron" && !has("cron")) {
    throw new CommandError(`run '${cmd.run_id}' belongs to an interval schedule; send payload.interval`);
  }
  if (update.kind === "interval" && !has("interval")) {
    throw new CommandError(`run '${cmd.run_id}' belongs to a cron schedule; send payload.cron`);
  }
  if (alreadyDone(root, cmd.seq)) return;
  const now = new Date();
  if (update.kind === "interval") {
    const flow = deps.bundles.getWorkflow(root.workflow_id);
    if (!flow) throw new CommandError(`scheduled flow '${root.workflow_id}' not found`);
    await deps.bundles.saveDynamicFlow(withInterval(flow, update.interval));
    meta!.interval = update.interval;
  } else {
    meta!.cron = update.cron;
    meta!.timezone = update.timezone;
  }
  meta!.updated_at = isoUtc(now);
  runtimeVars(root).last_schedule_update = {
    command_id: cmd.command_id,
    ...(update.kind === "interval"
      ? { interval: update.interval }
      : { cron: update.cron, timezone: update.timezone }),
    updated_at: isoUtc(now),
    requested_run_id: cmd.run_id,
    scheduled_root_run_id: root.run_id,
  };
  const w = root.waiting;
  if (
    update.applyImmediately && root.status === "waiting" && w?.reason === "until" &&
    root.current_node === WAIT_INTERVAL_NODE
  ) {
    if (update.kind === "interval") {
      w.until = isoUtc(new Date(now.getTime() + update.ms));
    } else {
      const next = nextCronFire(update.cron, update.timezone, now);
      if (next) markCronTimed(root, isoUtc(next));
    }
  }
  root.updated_at = nowIso();
  markDone(root, cmd.seq);
  await deps.stores.runs.save(root);
}
