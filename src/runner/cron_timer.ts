/**
 * Cron schedules reuse the interval wrapper flow: its `wait_interval` node waits a placeholder
 * interval, and the runner moves that wait's `until` to the next cron fire time as soon as the
 * parent reaches it (after each tick, and in the periodic repair pass after a restart).
 */
import type { RunState } from "../runtime/types.ts";
import { isoUtc, nowIso } from "../util/time.ts";
import { nextCronFire } from "./cron.ts";
import { runtimeVars } from "./run_once.ts";
import { scheduleMeta, WAIT_INTERVAL_NODE } from "./schedule_meta.ts";

export const CRON_PLACEHOLDER_INTERVAL = "1d";
const TIMED_KEY = "cron_timed_until";

export function isCronSchedule(run: RunState): boolean {
  return typeof scheduleMeta(run)?.cron === "string";
}

/** Moves the pending interval wait of a cron root to the next fire; true when the run changed. */
export function retimeCronWait(run: RunState, now = new Date()): boolean {
  const meta = scheduleMeta(run);
  const wait = run.waiting;
  if (typeof meta?.cron !== "string" || run.status !== "waiting" || wait?.reason !== "until") return false;
  if (run.current_node !== WAIT_INTERVAL_NODE || runtimeVars(run)[TIMED_KEY] === wait.until) return false;
  const timezone = typeof meta.timezone === "string" ? meta.timezone : null;
  const next = nextCronFire(meta.cron, timezone, now);
  if (!next) return false;
  markCronTimed(run, isoUtc(next));
  run.updated_at = nowIso();
  return true;
}

/** Sets the pending wait's `until` and remembers that the runner timed it (caller saves). */
export function markCronTimed(run: RunState, until: string): void {
  run.waiting!.until = until;
  runtimeVars(run)[TIMED_KEY] = until;
}
