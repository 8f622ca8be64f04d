/**
 * Per-run mutual exclusion: a tick, a command and a parent resume never touch the same run at once,
 * inside this process (a promise chain per run) and across runners (the RunClaims policy: a no-op
 * under the data-dir flock, a lease on PostgreSQL).
 *
 * Writes within this process also go through a shorter per-run section: `with` and `tryWith` hold it
 * for their whole call, a tick (`tryTick`) only around each re-read of its run and the checkpoint
 * after it, so a pause or cancel (`section`) is applied between two steps of a tick in flight, even
 * one waiting on a long effect, without a later checkpoint of that tick overwriting it.
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
  readonly #sections = new Map<string, Promise<void>>();
  /** When each run's last section ended (kept while the run is held): see `stamp`. */
  readonly #lastWrite = new Map<string, number>();
  #ended = 0;

  constructor(private readonly claims: RunClaims, private readonly signal: AbortSignal) {}

  isBusy(runId: string): boolean {
    return this.#tails.has(runId);
  }

  /** Runs held (or queued for) in this process right now. */
  busy(): IterableIterator<string> {
    return this.#tails.keys();
  }

  /** Runs `fn` once every earlier holder of `runId` has finished, waiting for other runners' claims. */
  with<T>(runId: string, fn: () => Promise<T>): Promise<T> {
    return this.#chain(this.#tails, runId, async () => {
      if (!(await claimWaiting(this.claims, runId, this.signal))) throw new RunnerStoppingError(runId);
      return await this.#claimed(runId, () => this.section(runId, fn));
    });
  }

  /** Like `with`, but skips (resolves `skipped`) when another runner holds the run right now. */
  tryWith<T>(runId: string, fn: () => Promise<T>): Promise<{ value: T } | "skipped"> {
    return this.tryTick(runId, () => this.section(runId, fn));
  }

  /** `tryWith` for a tick: `fn` takes the run's section itself, around each of its checkpoints. */
  tryTick<T>(runId: string, fn: () => Promise<T>): Promise<{ value: T } | "skipped"> {
    return this.#chain(this.#tails, runId, async () => {
      if (!(await this.claims.tryClaim(runId))) return "skipped" as const;
      return { value: await this.#claimed(runId, fn) };
    });
  }

  /** Runs `fn` alone among this process's writers of `runId` (not waiting for a tick's whole length). */
  section<T>(runId: string, fn: () => Promise<T>): Promise<T> {
    return this.#chain(this.#sections, runId, async () => {
      try {
        return await fn();
      } finally {
        this.#lastWrite.set(runId, ++this.#ended); // before the next writer may start
      }
    });
  }

  /** A section for the tick holding `runId`: its own checkpoints leave the run's `stamp` as it is. */
  checkpoint<T>(runId: string, fn: () => Promise<T>): Promise<T> {
    return this.#chain(this.#sections, runId, fn);
  }

  /** See RunClaims.soleWriter: then a run's `stamp` tells every write to it but its holder's own. */
  get soleWriter(): boolean {
    return this.claims.soleWriter;
  }

  /**
   * A mark of the writes to `runId` so far, for a holder of the run: while it is unchanged, no section
   * other than the holder's checkpoints ended since (nothing else in this process wrote the run).
   */
  stamp(runId: string): number {
    return this.#lastWrite.get(runId) ?? 0;
  }

  async #claimed<T>(runId: string, fn: () => Promise<T>): Promise<T> {
    try {
      // Writes to this run inside `fn` are fenced by the claim (a lease taken over stops them).
      return await withFence(this.claims.fence(runId), fn);
    } finally {
      await this.claims.release(runId);
    }
  }

  async #chain<T>(tails: Map<string, Promise<void>>, runId: string, fn: () => Promise<T>): Promise<T> {
    const previous = tails.get(runId) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    tails.set(runId, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (tails.get(runId) === tail) tails.delete(runId);
      this.#forgetIdle(runId);
    }
  }

  #forgetIdle(runId: string): void {
    if (!this.#tails.has(runId) && !this.#sections.has(runId)) this.#lastWrite.delete(runId);
  }

  /** Resolves when no run is held. */
  async idle(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all([...this.#tails.values()]);
  }
}
