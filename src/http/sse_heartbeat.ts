/**
 * Keep-alive timing for SSE streams: one timer per heartbeat period, shared by every stream open with
 * that period, instead of one timer per stream. Arming a timer costs Deno tens of microseconds, over
 * 100 µs when durations differ (as a stream re-arming "the rest of its period" always did): a large
 * share of connecting 1,000 streams. Streams are checked every quarter period, so a keep-alive goes
 * out after one to 1.25 periods idle (the front's idle deadline, 120 s by default, stays above that for
 * the largest period, 60 s).
 */
interface Group {
  timer: ReturnType<typeof setInterval>;
  checks: Set<() => void>;
}

const groups = new Map<number, Group>();
const MIN_TICK_MS = 25;

/** Calls `check` every quarter of `periodMs` until the returned function is called. */
export function checkEveryQuarter(periodMs: number, check: () => void): () => void {
  let group = groups.get(periodMs);
  if (!group) {
    const checks = new Set<() => void>();
    const timer = setInterval(() => {
      for (const each of checks) each();
    }, Math.max(MIN_TICK_MS, periodMs / 4));
    group = { timer, checks };
    groups.set(periodMs, group);
  }
  const joined = group;
  joined.checks.add(check);
  return () => {
    if (!joined.checks.delete(check) || joined.checks.size > 0) return;
    clearInterval(joined.timer);
    if (groups.get(periodMs) === joined) groups.delete(periodMs);
  };
}
