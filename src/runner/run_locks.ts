/**
 * Per-run mutual exclusion inside one runner process: a tick, a command and a parent resume never
 * touch the same run at once. (Across processes the data-dir lock guarantees a single runner.)
 */
export class RunLocks {
  readonly #tails = new Map<string, Promise<void>>();

  isBusy(runId: string): boolean {
    return this.#tails.has(runId);
  }

  /** Runs `fn` once every earlier holder of `runId` has finished. */
  async with<T>(runId: string, fn: () => Promise<T>): Promise<T> {
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
