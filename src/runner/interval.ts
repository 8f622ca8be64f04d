/** Relative durations used by schedules and `update_schedule`: `15m`, `1h`, `2d`, `0.1s`, `100ms`. */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const INTERVAL_RE = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/i;

/** Milliseconds of a relative interval, or null when the text is not one (or is not > 0). */
export function intervalMs(text: string): number | null {
  const m = INTERVAL_RE.exec(text);
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2].toLowerCase()];
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}

/** Like intervalMs but throws a message naming the accepted forms. */
export function parseInterval(text: string, field = "interval"): number {
  const ms = intervalMs(text);
  if (ms === null) {
    throw new Error(
      `${field} must be a positive duration like 100ms, 0.5s, 15m, 1h or 2d (got ${JSON.stringify(text)})`,
    );
  }
  return ms;
}

/** `repeat_until` needs whole units (upstream rule `^\d+\s*[smhd]$`). */
export function isWholeUnitInterval(text: string): boolean {
  return /^\s*\d+\s*[smhd]\s*$/i.test(text);
}
