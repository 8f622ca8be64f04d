/**
 * Group commit: concurrent callers submit items, and one flush at a time makes every item that is
 * waiting durable together (one SQLite transaction, one fsync). Each caller's promise settles with
 * its own item's result only after the flush that carried it returned, so an acknowledgement still
 * means "durable". The first item of an idle queue waits one macrotask, which lets the requests
 * already read from the sockets join it (SQLite commits block the event loop, so nothing could
 * join during the flush itself).
 */
export type ItemResult<R> = { ok: true; value: R } | { ok: false; error: unknown };

interface Waiting<I, R> {
  item: I;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<I, R> {
  #waiting: Waiting<I, R>[] = [];
  #busy = false;

  /** `flush` returns one result per item, in order; a throw fails every item of the batch. */
  constructor(
    private readonly flush: (items: I[]) => Promise<ItemResult<R>[]> | ItemResult<R>[],
    private readonly maxBatch = 1000,
  ) {}

  submit(item: I): Promise<R> {
    const { promise, resolve, reject } = Promise.withResolvers<R>();
    this.#waiting.push({ item, resolve, reject });
    if (!this.#busy) {
      this.#busy = true;
      setTimeout(() => void this.#drain(), 0);
    }
    return promise;
  }

  async #drain(): Promise<void> {
    while (this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, this.maxBatch);
      try {
        const results = await this.flush(batch.map((w) => w.item));
        batch.forEach((w, i) => {
          const r = results[i];
          if (r.ok) w.resolve(r.value);
          else w.reject(r.error);
        });
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.#busy = false;
  }
}

/** Runs `fn` for one item of a batch, turning a throw into that item's failure. */
export function settle<R>(fn: () => R): ItemResult<R> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}
