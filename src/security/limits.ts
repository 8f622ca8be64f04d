/** Concurrency pools and the helpers that hold a slot for a response's whole lifetime. */
import { onReportedEnd } from "../util/stream_end.ts";

/** A counting semaphore that never waits: a request either gets a slot now or is turned away. */
export class Pool {
  #used = 0;
  constructor(readonly capacity: number) {}

  /** Slots held now (the `gateway_slots_in_use` gauge). */
  get used(): number {
    return this.#used;
  }

  tryAcquire(): boolean {
    if (this.#used >= this.capacity) return false;
    this.#used += 1;
    return true;
  }

  release(): void {
    if (this.#used > 0) this.#used -= 1;
  }
}

/** Per-key pools (e.g. SSE streams per token), dropping keys whose count returns to zero. */
export class KeyedPool {
  readonly #used = new Map<string, number>();
  constructor(readonly capacity: number) {}

  tryAcquire(key: string): boolean {
    const used = this.#used.get(key) ?? 0;
    if (used >= this.capacity) return false;
    this.#used.set(key, used + 1);
    return true;
  }

  release(key: string): void {
    const used = (this.#used.get(key) ?? 0) - 1;
    if (used > 0) this.#used.set(key, used);
    else this.#used.delete(key);
  }
}

/** Wraps `fn` so that only its first call has an effect. */
export function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

/**
 * Returns `res` with its body wrapped so `onEnd` runs exactly once when the body has been fully sent,
 * fails, or is cancelled (client gone). Bodyless responses end at once; a body that reports its own
 * end (util/stream_end.ts) is left unwrapped.
 */
export function onBodyEnd(res: Response, onEnd: () => void): Response {
  const end = once(onEnd);
  if (!res.body) {
    end();
    return res;
  }
  if (onReportedEnd(res.body, end)) return res;
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          end();
          controller.close();
        } else controller.enqueue(value);
      } catch (err) {
        end();
        controller.error(err);
      }
    },
    async cancel(reason) {
      end();
      await reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/** Outcome of reading a request body under a byte cap. */
export type LimitedBody = { ok: true; bytes: Uint8Array<ArrayBuffer> } | { ok: false; received: number };

/**
 * Reads `stream` into memory, giving up (and cancelling it) as soon as it exceeds `limit` bytes. Throws
 * an AbortError when `signal` fires first, so a half-read body is never handed on.
 */
export async function readLimited(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  signal?: AbortSignal,
): Promise<LimitedBody> {
  const reader = stream.getReader();
  const stop = () => reader.cancel().catch(() => {});
  signal?.addEventListener("abort", stop, { once: true });
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    while (true) {
      const { done, value } = await reader.read();
      signal?.throwIfAborted();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await stop();
        return { ok: false, received: total };
      }
      chunks.push(value);
    }
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return { ok: true, bytes };
  } finally {
    signal?.removeEventListener("abort", stop);
  }
}
