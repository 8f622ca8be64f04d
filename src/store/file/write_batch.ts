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

interface Pending {
  path: string;
  data: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Atomic whole-file writes (temp + fsync + rename + directory fsync), batched. */
export class AtomicWriteBatch {
  #queue: Pending[] = [];
  #running = false;

  /** Replaces `path` with `data`; resolves once durable. Of several writes to one path in a batch, the last wins. */
  write(path: string, data: string): Promise<void> {
    const done = Promise.withResolvers<void>();
    this.#queue.push({ path, data, resolve: done.resolve, reject: done.reject });
    if (!this.#running) void this.#loop();
    return done.promise;
  }

  async #loop(): Promise<void> {
    this.#running = true;
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      const latest = new Map(batch.map((item) => [item.path, item.data]));
      const errors = new Map<string, unknown>();
      let failure: unknown = undefined;
      try {
        const files = [...latest].map(([path, data]) => ({ path, stage: () => stageFile(path, data) }));
        await Promise.all([...await stageAndMove(files, errors)].map(syncDir));
      } catch (err) {
        failure = err;
      }
      for (const item of batch) {
        const err = errors.get(item.path) ?? failure;
        if (err !== undefined) item.reject(err);
        else item.resolve();
      }
    }
    this.#running = false;
  }
}
