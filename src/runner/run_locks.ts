/**
 * Per-run mutual exclusion: a tick, a command and a parent resume never touch the same run at once,
 * inside this process (a promise chain per run) and across runners (the RunClaims policy: a no-op
 * under the data-dir flock, a lease on PostgreSQL).
 */
import { claimWaiting, type RunClaims } from "./claims.ts";
import { withFence } from "../store/fence.ts";

export class RunnerStoppingError extends Error {
  constructor(runId: string) {
    super(`Cannot claim run ${runId}: the runner is stopping`);
    this.name = "RunnerStoppingError";
  }
}

export class RunLocks {
  readonly #tails = new Map<string, Promise<void>>();

  constructor(private readonly claims: RunClaims, private readonly signal: AbortSignal) {}

  isBusy(runId: string): boolean {
    return this.#tails.has(runId);
  }

  /** Runs `fn` once every earlier holder of `runId` has finished, waiting for other runners' claims. */
  with<T>(runId: string, fn: () => Promise<T>): Promise<T> {
    return this.#local(runId, async () => {
      if (!(await claimWaiting(this.claims, runId, this.signal))) throw new RunnerStoppingError(runId);
      return await this.#claimed(runId, fn);
    });
  }

  /** Like `with`, but skips (resolves `skipped`) when another runner holds the run right now. */
  tryWith<T>(runId: string, fn: () => Promise<T>): Promise<{ value: T } | "skipped"> {
    return this.#local(runId, async () => {
      if (!(await this.claims.tryClaim(runId))) return "skipped" as const;
      return { value: await this.#claimed(runId, fn) };
    });
  }

  async #claimed<T>(runId: string, fn: () => Promise<T>): Promise<T> {
    try {
      // Writes to this run inside `fn` are fenced by the claim (a lease taken over stops them).
      return await withFence(this.claims.fence(runId), fn);
    } finally {
      await this.claims.release(runId);
    }
  }

  async #local<T>(runId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(runId) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.#tails.set(runId, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.#tails.get(runId) === tail) this.#tails.delete(runId);
    }
  }

  /** Resolves when no run is held. */
  async idle(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all([...this.#tails.values()]);
  }
}
