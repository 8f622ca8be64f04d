/**
 * Cross-process exclusive section: an in-process mutex (flock is per open file description, and
 * waiting in the kernel would tie up a runtime thread per waiter) plus flock(2) on a lock file
 * kept open for the life of the store. The lock file is never deleted, so every process locks the
 * same inode.
 */
import { KeyedMutex } from "../mutex.ts";
import { openOrCreate } from "./fsutil.ts";

export class FileLock {
  #mutex = new KeyedMutex();
  #file: Deno.FsFile | null = null;
  #closed = false;

  constructor(readonly path: string) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    return await this.#mutex.run("", async () => {
      if (this.#closed) throw new Error(`store is closed (lock ${this.path})`);
      this.#file ??= await Deno.open(this.path, { read: true, write: true, create: true });
      const file = this.#file;
      await file.lock(true);
      try {
        return await fn();
      } finally {
        await file.unlock();
      }
    });
  }

  /** Waits for the running section, then releases the handle. */
  async close(): Promise<void> {
    await this.#mutex.run("", () => {
      this.#closed = true;
      this.#file?.close();
      this.#file = null;
      return Promise.resolve();
    });
  }
}

/**
 * Runs `fn` with `path` open and flock-ed, re-opening when the path was replaced or removed while
 * we waited (the lock must cover the inode the path names). Used for per-run ledger files, which
 * lock themselves instead of a separate lock file.
 */
export async function withLockedFile<T>(
  path: string,
  fn: (file: Deno.FsFile, created: boolean) => Promise<T>,
): Promise<T> {
  for (;;) {
    const { file, created } = await openOrCreate(path);
    try {
      await file.lock(true);
      const [held, named] = await Promise.all([file.stat(), Deno.stat(path).catch(() => null)]);
      if (named === null || named.ino !== held.ino) continue;
      return await fn(file, created);
    } finally {
      file.close(); // closing releases the flock
    }
  }
}
