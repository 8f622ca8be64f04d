/**
 * Deadlines of one fixed duration (the request timeout, the small-body read deadline) kept in one queue
 * under one timer, instead of a timer per request: every timer is an object with its own bookkeeping,
 * and nearly all of them are cleared unfired. With one duration, insertion order is deadline order, so
 * the timer only ever waits for the oldest entry, and most requests end before it fires. The timer is
 * cleared when the queue empties, so nothing outlives the requests.
 */
export interface Deadline {
  /** Removes the deadline (its callback will not run); safe to call more than once. */
  cancel(): void;
}

interface Entry extends Deadline {
  at: number;
  fire: () => void;
}

export class DeadlineQueue {
  readonly #entries = new Set<Entry>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly durationMs: number) {}

  /** Calls `fire` once `durationMs` have passed, unless cancelled first. */
  start(fire: () => void): Deadline {
    const entries = this.#entries;
    const entry: Entry = {
      at: performance.now() + this.durationMs,
      fire,
      cancel: () => {
        if (entries.delete(entry) && entries.size === 0) this.#disarm();
      },
    };
    entries.add(entry);
    if (this.#timer === undefined) this.#arm(entry.at);
    return entry;
  }

  #arm(at: number): void {
    this.#timer = setTimeout(() => this.#sweep(), Math.max(0, at - performance.now()));
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    this.#timer = undefined;
    const now = performance.now();
    for (const entry of this.#entries) {
      // A timer may fire a little early; what is due within a millisecond counts as due.
      if (entry.at > now + 1) break;
      this.#entries.delete(entry);
      entry.fire();
    }
    const next = this.#entries.values().next();
    if (!next.done && this.#timer === undefined) this.#arm(next.value.at);
  }
}
