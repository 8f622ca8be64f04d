/**
 * Group commit for files: atomic writes that arrive while a batch is being written share it. Every
 * file of a batch is staged (temp file, fsynced) in parallel, moved into place, and each directory
 * is fsynced once per batch instead of once per file. Callers resolve once their file is durable.
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

interface Queued<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Items added while a batch is being written form the next batch. `writeBatch` returns the items
 * that failed (with their error); throwing fails every item of the batch.
 */
export class BatchQueue<T extends object> {
  #queue: Queued<T>[] = [];
  #running = false;

  constructor(private readonly writeBatch: (items: T[]) => Promise<Map<T, unknown>>) {}

  /** Resolves once the batch holding `item` is written (rejects with its error). */
  add(item: T): Promise<void> {
    const done = Promise.withResolvers<void>();
    this.#queue.push({ item, resolve: done.resolve, reject: done.reject });
    if (!this.#running) void this.#loop();
    return done.promise;
  }

  async #loop(): Promise<void> {
    this.#running = true;
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      let failed: Map<T, unknown>;
      try {
        failed = await this.writeBatch(batch.map((q) => q.item));
      } catch (err) {
        failed = new Map(batch.map((q) => [q.item, err]));
      }
      for (const { item, resolve, reject } of batch) {
        if (failed.has(item)) reject(failed.get(item));
        else resolve();
      }
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
    return new Map(items.filter((i) => errors.has(i.path)).map((i) => [i, errors.get(i.path)]));
  });

  /** Replaces `path` with `data`; resolves once durable. */
  write(path: string, data: string): Promise<void> {
    return this.#queue.add({ path, data });
  }
}
