/**
 * Deadlines on reading a request body, on every route (uploads included): a pause longer than
 * `idleMs` between two pieces, an average rate below `minBytesPerS` once `graceMs` have passed, or
 * the request's own timeout (`signal`) fail the read with a BodyReadError; more than `maxBytes` fails it
 * with a BodyTooLargeError. The handler reading the
 * body then fails promptly (408), so a slow or stalled client never holds a slot for longer.
 */
import type { DeadlineQueue } from "./deadline_queue.ts";

/** The body could not be read in time; answered 408. */
export class BodyReadError extends Error {
  constructor(message: string) {
    super(`Cannot read the request body: ${message}`);
    this.name = "BodyReadError";
  }
}

/** The body turned out larger than its route's cap while streaming; answered 413. */
export class BodyTooLargeError extends Error {
  constructor(readonly received: number, readonly limit: number) {
    super(`Payload Too Large (${received} bytes > ${limit} bytes)`);
    this.name = "BodyTooLargeError";
  }
}

export interface BodyDeadlines {
  idleMs: number;
  minBytesPerS: number;
  graceMs: number;
  signal: AbortSignal;
  /** When set, the read fails with BodyTooLargeError as soon as more than this many bytes arrived. */
  maxBytes?: number;
}

export function withBodyDeadlines(
  stream: ReadableStream<Uint8Array>,
  opts: BodyDeadlines,
): ReadableStream<Uint8Array> {
  // The source is locked only once the handler reads (an unread body stays Deno's to discard).
  let source: ReadableStreamDefaultReader<Uint8Array> | null = null;
  const started = performance.now();
  let received = 0;
  let failAbort: ((err: BodyReadError) => void) | null = null;
  const onAbort = () => failAbort?.(new BodyReadError("the request timed out"));
  opts.signal.addEventListener("abort", onAbort, { once: true });
  const done = () => opts.signal.removeEventListener("abort", onAbort);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stop = new Promise<never>((_, reject) => {
        failAbort = reject;
        if (opts.signal.aborted) reject(new BodyReadError("the request timed out"));
        timer = setTimeout(
          () => reject(new BodyReadError(`no data for ${opts.idleMs / 1000} s`)),
          opts.idleMs,
        );
      });
      try {
        source ??= stream.getReader();
        const next = await Promise.race([source.read(), stop]);
        if (next.done) {
          done();
          controller.close();
          return;
        }
        received += next.value.byteLength;
        if (opts.maxBytes !== undefined && received > opts.maxBytes) {
          throw new BodyTooLargeError(received, opts.maxBytes);
        }
        const elapsedMs = performance.now() - started;
        if (
          opts.minBytesPerS > 0 && elapsedMs > opts.graceMs &&
          received / (elapsedMs / 1000) < opts.minBytesPerS
        ) {
          throw new BodyReadError(`it arrives slower than ${opts.minBytesPerS} bytes/s`);
        }
        controller.enqueue(next.value);
      } catch (err) {
        done();
        source?.cancel(err).catch(() => {});
        controller.error(err);
      } finally {
        clearTimeout(timer);
        failAbort = null;
      }
    },
    cancel(reason) {
      done();
      return (source ?? stream).cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * Reads a whole body into memory under the same deadlines and cap as `withBodyDeadlines`, without
 * wrapping it in another stream; the idle deadline of each piece is an entry of `idle` (whose duration
 * is `opts.idleMs`), not a timer of its own. Throws BodyReadError / BodyTooLargeError; the source is
 * cancelled then.
 */
export async function readWithDeadlines(
  stream: ReadableStream<Uint8Array>,
  opts: BodyDeadlines,
  idle: DeadlineQueue,
): Promise<Uint8Array<ArrayBuffer>> {
  const reader = stream.getReader();
  const started = performance.now();
  let received = 0;
  const chunks: Uint8Array[] = [];
  const stop = Promise.withResolvers<never>();
  stop.promise.catch(() => {}); // observed through the race below
  const onAbort = () => stop.reject(new BodyReadError("the request timed out"));
  const stalled = () => stop.reject(new BodyReadError(`no data for ${opts.idleMs / 1000} s`));
  if (opts.signal.aborted) onAbort();
  opts.signal.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      const deadline = idle.start(stalled);
      const next = await Promise.race([reader.read(), stop.promise]).finally(deadline.cancel);
      if (next.done) break;
      received += next.value.byteLength;
      if (opts.maxBytes !== undefined && received > opts.maxBytes) {
        throw new BodyTooLargeError(received, opts.maxBytes);
      }
      const elapsedMs = performance.now() - started;
      if (
        opts.minBytesPerS > 0 && elapsedMs > opts.graceMs && received / (elapsedMs / 1000) < opts.minBytesPerS
      ) {
        throw new BodyReadError(`it arrives slower than ${opts.minBytesPerS} bytes/s`);
      }
      chunks.push(next.value);
    }
  } catch (err) {
    reader.cancel(err).catch(() => {});
    throw err;
  } finally {
    opts.signal.removeEventListener("abort", onAbort);
  }
  const bytes = new Uint8Array(received);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * Reads a small body declared by its Content-Length in one piece (Deno reads it in one operation, no
 * per-chunk stream work) under one deadline, `deadlines.durationMs` (the grace time of
 * `BodyDeadlines`). Only for bodies that `fitsOneDeadline`: any client the piecewise rules of
 * `readWithDeadlines` accept has then sent the whole body within that time, and one that stalls is cut
 * no later than they would cut it. On failure the response closes the connection (408 with
 * `Connection: close`), which ends the read.
 */
export async function readSmallWithDeadline(
  req: Request,
  signal: AbortSignal,
  deadlines: DeadlineQueue,
): Promise<ArrayBuffer> {
  const read = req.arrayBuffer();
  const stop = Promise.withResolvers<never>();
  const onAbort = () => stop.reject(new BodyReadError("the request timed out"));
  const deadline = deadlines.start(() =>
    stop.reject(new BodyReadError(`it did not arrive within ${deadlines.durationMs / 1000} s`))
  );
  if (signal.aborted) onAbort();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    return await Promise.race([read, stop.promise]);
  } catch (err) {
    read.catch(() => {});
    throw err;
  } finally {
    deadline.cancel();
    signal.removeEventListener("abort", onAbort);
  }
}

/** Whether a body of `length` bytes may be read by `readSmallWithDeadline` (with `graceMs` as its deadline). */
export const fitsOneDeadline = (length: number, opts: BodyDeadlines): boolean =>
  opts.minBytesPerS > 0 && length <= opts.minBytesPerS * (opts.graceMs / 1000) &&
  (opts.maxBytes === undefined || length <= opts.maxBytes);
