/**
 * The single-runner lock: an exclusive flock on `<dataDir>/gateway_runner.lock`. The kernel drops
 * it when the holding process dies (even on kill -9), so a waiting runner takes over within one
 * poll interval. The file is opened in append mode and `pid=<pid>` is appended on acquisition
 * (upstream tooling reads it; the file is never truncated or deleted).
 */
import { join } from "node:path";

export const LOCK_FILE = "gateway_runner.lock";

const encoder = new TextEncoder();

export class RunnerLock {
  readonly path: string;
  #file: Deno.FsFile | null = null;
  #held = false;

  constructor(dataDir: string) {
    this.path = join(dataDir, LOCK_FILE);
  }

  get held(): boolean {
    return this.#held;
  }

  /** One non-blocking attempt; `recordPid: false` leaves the file's content alone (e.g. migrate). */
  async tryAcquire(options: { recordPid?: boolean } = {}): Promise<boolean> {
    if (this.#held) return true;
    this.#file ??= await Deno.open(this.path, { append: true, create: true });
    if (!(await this.#file.tryLock(true))) return false;
    this.#held = true;
    if (options.recordPid ?? true) await this.#file.write(encoder.encode(`pid=${Deno.pid}\n`));
    return true;
  }

  /**
   * Polls until the lock is ours (true) or `signal` aborts (false). `onWait` runs once, when the
   * first attempt finds the lock held by someone else.
   */
  async acquire(
    signal: AbortSignal,
    options: { pollMs?: number; onWait?: () => void } = {},
  ): Promise<boolean> {
    const pollMs = options.pollMs ?? 300;
    let warned = false;
    while (!signal.aborted) {
      if (await this.tryAcquire()) return true;
      if (!warned) {
        warned = true;
        options.onWait?.();
      }
      await abortableDelay(pollMs, signal);
    }
    return false;
  }

  /** Unlocks and closes the file; safe to call more than once. */
  release(): void {
    const file = this.#file;
    this.#file = null;
    this.#held = false;
    if (file) file.close(); // closing the descriptor drops the flock
  }
}

/** Resolves after `ms`, or as soon as `signal` aborts (never rejects). */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
