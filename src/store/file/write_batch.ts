/**
 * Group commit for files (SQLite has its own: ../sqlite/group_commit.ts): writes that arrive while a
 * batch is being written share the next one (BatchQueue), and each caller resolves only once its
 * write is durable. Used for atomic whole-file writes (run files, below), artifact files and command
 * appends (one locked write and one fsync per batch). Every file of a batch is staged (temp file,
 * fsynced) in parallel, moved into place, and each directory is fsynced once per batch instead of
 * once per file.
 */
import { dirname } from "node:path";
import { stageFile, syncDir } from "../../util/atomic.ts";

export interface StagedWrite {
  path: string;
  /** Writes and fsyncs the temp file; null when nothing needs writing (the file is already there). */
  stage: () => Promise<string | null>;
}

/**
 * Stages every file in parallel, then renames the staged ones into place in order. Returns the
 * directories that received a file (to fsync); failures land in `errors` by target path.
 */
export async function stageAndMove(files: StagedWrite[], errors: Map<string, unknown>): Promise<Set<string>> {
  const dirs = new Set<string>();
  const staged = await Promise.allSettled(files.map((f) => f.stage()));
  for (const [i, result] of staged.entries()) {
    const { path } = files[i];
    if (result.status === "rejected") {
      errors.set(path, result.reason);
      continue;
    }
    if (result.value === null) continue;
    try {
      await Deno.rename(result.value, path);
      dirs.add(dirname(path));
    } catch (err) {
      errors.set(path, err);
      await Deno.remove(result.value).catch(() => {});
    }
  }
  return dirs;
}

/** One item's outcome in a batch. */
export type ItemResult<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** Runs `fn` for one item of a batch, turning a throw into that item's failure. */
export function settle<R>(fn: () => R): ItemResult<R> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** One result per item of `items`: the failure recorded in `failed`, else success. */
export function resultsOf<T>(items: T[], failed: Map<T, unknown>): ItemResult<void>[] {
  return items.map((item) =>
    failed.has(item) ? { ok: false, error: failed.get(item) } : { ok: true, value: undefined }
  );
}

interface Queued<T, R> {
  item: T;
  resolve: (value: R) => void;
  reject: (err: unknown) => void;
}

/**
 * The file store's group commit: items added while a batch is being written form the next batch.
 * `writeBatch` returns one result per item, in order; throwing fails every item of the batch.
 * With `gather`, the first item of an idle queue waits one macrotask, which lets the requests
 * already read from the sockets join its batch.
 */
export class BatchQueue<T, R = void> {
  #queue: Queued<T, R>[] = [];
  #running = false;

  constructor(
    private readonly writeBatch: (items: T[]) => Promise<ItemResult<R>[]>,
    private readonly gather = false,
  ) {}

  /** Resolves with the item's result once the batch holding it is written (rejects with its error). */
  add(item: T): Promise<R> {
    const done = Promise.withResolvers<R>();
    this.#queue.push({ item, resolve: done.resolve, reject: done.reject });
    if (!this.#running) {
      this.#running = true;
      if (this.gather) setTimeout(() => void this.#loop(), 0);
      else void this.#loop();
    }
    return done.promise;
  }

  async #loop(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      let results: ItemResult<R>[];
      try {
        results = await this.writeBatch(batch.map((q) => q.item));
      } catch (error) {
        results = batch.map(() => ({ ok: false, error }));
      }
      batch.forEach(({ resolve, reject }, i) => {
        const r = results[i];
        if (r.ok) resolve(r.value);
        else reject(r.error);
      });
    }
    this.#running = false;
  }
}

/** Atomic whole-file writes (temp + fsync + rename + directory fsync), batched. */
export class AtomicWriteBatch {
  readonly #queue = new BatchQueue<{ path: string; data: string }>(async (items) => {
    // Of several writes to one path in a batch, the last wins (renames happen in order anyway).
    const latest = new Map(items.map((item) => [item.path, item.data]));
    const errors = new Map<string, unknown>();
    const files = [...latest].map(([path, data]) => ({ path, stage: () => stageFile(path, data) }));
    await Promise.all([...await stageAndMove(files, errors)].map(syncDir));
    return resultsOf(
      items,
      new Map(items.filter((i) => errors.has(i.path)).map((i) => [i, errors.get(i.path)])),
    );
  });

  /** Replaces `path` with `data`; resolves once durable. */
  write(path: string, data: string): Promise<void> {
    return this.#queue.add({ path, data });
  }
}
