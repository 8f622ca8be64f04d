/**
 * Timestamps in the exact upstream format `YYYY-MM-DDTHH:MM:SS.ffffff+00:00`.
 * The scheduler compares ISO strings lexicographically, so every timestamp we write
 * must have this fixed width (UTC, six fraction digits, explicit offset).
 */
export function isoUtc(date: Date = new Date()): string {
  const base = date.toISOString(); // 2026-01-02T03:04:05.678Z
  return `${base.slice(0, 23)}000+00:00`;
}

let lastMs = NaN;
let lastIso = "";

/** The current time as `isoUtc` text; formatted once per millisecond (busy request paths call it often). */
export function nowIso(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = isoUtc(new Date(ms));
  }
  return lastIso;
}

/** Parse an ISO-8601 timestamp (any offset); returns epoch ms or NaN. */
export function parseIso(value: string): number {
  return Date.parse(value);
}
