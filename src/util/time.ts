/**
 * Timestamps in the exact upstream format `YYYY-MM-DDTHH:MM:SS.ffffff+00:00`.
 * The scheduler compares ISO strings lexicographically, so every timestamp we write
 * must have this fixed width (UTC, six fraction digits, explicit offset).
 */
export function isoUtc(date: Date = new Date()): string {
  const base = date.toISOString(); // 2026-01-02T03:04:05.678Z
  return `${base.slice(0, 23)}000+00:00`;
}

export const nowIso = (): string => isoUtc();

/** Parse an ISO-8601 timestamp (any offset); returns epoch ms or NaN. */
export function parseIso(value: string): number {
  return Date.parse(value);
}
