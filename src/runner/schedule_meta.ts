/** Reading the schedule metadata a wrapper parent carries in `vars._meta.schedule` (§5.5). */
import type { JsonObject, RunState } from "../runtime/types.ts";
import { isObject } from "./command_payload.ts";

export const SCHEDULED_PREFIX = "scheduled:";
/** Node ids of the wrapper flow that clients and update_schedule rely on. */
export const WAIT_START_NODE = "wait_start";
export const WAIT_INTERVAL_NODE = "wait_interval";

export function scheduleMeta(run: RunState): JsonObject | null {
  const meta = run.vars._meta;
  if (!isObject(meta)) return null;
  const schedule = meta.schedule;
  return isObject(schedule) && schedule.kind === "scheduled_run" ? schedule : null;
}

export function isScheduledRun(run: RunState): boolean {
  return run.workflow_id.startsWith(SCHEDULED_PREFIX) || scheduleMeta(run) !== null;
}

/** A scheduled parent that repeats on an interval (or a cron expression). */
export function isRecurrentSchedule(run: RunState): boolean {
  const meta = scheduleMeta(run);
  if (!meta) return false;
  return (typeof meta.interval === "string" && meta.interval !== "") ||
    (typeof meta.cron === "string" && meta.cron !== "");
}
