/** Backoff arithmetic for LLM HTTP retries: exponential with full jitter, and Retry-After parsing. */

export interface BackoffOptions {
  /** First delay in ms (doubles per attempt). */
  baseMs: number;
  /** Upper bound of any delay, Retry-After included. */
  capMs: number;
  random?: () => number;
}

/** Delay before retry number `retry` (1-based): uniform in [d/2, d] with d = base * 2^(retry-1), capped. */
export function backoffMs(retry: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, retry - 1));
  const random = options.random ?? Math.random;
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Retry-After as ms: delta-seconds or an HTTP date; null when absent or unparsable. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | null {
  if (header === null) return null;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Sleeps `ms`, rejecting early with the signal's reason when it aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
