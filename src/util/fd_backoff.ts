/**
 * Out of file descriptors (EMFILE/ENFILE): how to recognise it and how long to pause before accepting
 * again (doubling, up to 2 s). Shared by the connection front and the internal `Deno.serve`.
 */
export const BACKOFF_MS = [50, 100, 250, 500, 1_000, 2_000];

export const OUT_OF_DESCRIPTORS_MESSAGE = "out of file descriptors; accepting again after a pause";

export const isOutOfDescriptors = (err: unknown): boolean =>
  /too many open files|os error 2[34]\b|EMFILE|ENFILE/i.test(String(err));

/** The pause before retry number `attempt` (0-based). */
export const backoffMs = (attempt: number): number => BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
