/**
 * "Who may tick what": the runner asks a RunClaims policy before it touches a run.
 * - FlockClaims (file, SQLite): one runner per data dir holds the flock; it may touch every run.
 * - LeaseClaims (PostgreSQL): any number of runners; each run (and the command inbox) is claimed
 *   with a lease that is renewed while held and released after use; a runner killed with kill -9
 *   loses its leases when they expire and another runner continues from the ledger.
 */
import type { LeaseStore, Stores } from "../store/types.ts";
import { errorText, logger } from "../util/log.ts";
import { abortableDelay, RunnerLock } from "./lock.ts";

/** The lease key of the command inbox: its holder alone drains commands (applied exactly once). */
export const INBOX_KEY = "__gateway_inbox__";

export interface RunClaims {
  /** For logs and `gateway runner` output: the lock file, or the lease owner id. */
  readonly describe: string;
  /** True while this runner is admitted (holds the data-dir lock, or has started leasing). */
  readonly held: boolean;
  /** Waits until this runner may work at all; false when `signal` aborted first. */
  acquire(signal: AbortSignal, onWait: () => void): Promise<boolean>;
  /** Non-blocking: true when this runner now holds `key` (a run id or INBOX_KEY) until release. */
  tryClaim(key: string): Promise<boolean>;
  release(key: string): Promise<void>;
  /** Drops everything held; safe to call more than once. */
  releaseAll(): Promise<void>;
}

export class FlockClaims implements RunClaims {
  readonly #lock: RunnerLock;

  constructor(dataDir: string) {
    this.#lock = new RunnerLock(dataDir);
  }

  get describe(): string {
    return this.#lock.path;
  }

  get held(): boolean {
    return this.#lock.held;
  }

  acquire(signal: AbortSignal, onWait: () => void): Promise<boolean> {
    return this.#lock.acquire(signal, { onWait });
  }

  /** The flock holder is the only runner: every run is its own. */
  tryClaim(): Promise<boolean> {
    return Promise.resolve(this.#lock.held);
  }

  release(): Promise<void> {
    return Promise.resolve();
  }

  releaseAll(): Promise<void> {
    this.#lock.release();
    return Promise.resolve();
  }
}

const log = logger("runner");

export class LeaseClaims implements RunClaims {
  readonly owner = `runner-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  readonly #held = new Set<string>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #active = false;

  constructor(private readonly leases: LeaseStore, private readonly ttlMs: number) {}

  get describe(): string {
    return `postgres leases (owner ${this.owner}, ttl ${this.ttlMs} ms)`;
  }

  get held(): boolean {
    return this.#active;
  }

  acquire(): Promise<boolean> {
    this.#active = true;
    this.#timer = setInterval(() => void this.#renew(), Math.max(100, Math.floor(this.ttlMs / 3)));
    return Promise.resolve(true);
  }

  async tryClaim(key: string): Promise<boolean> {
    if (!this.#active) return false;
    if (this.#held.has(key)) return true;
    if (!(await this.leases.claim(key, this.owner, this.ttlMs))) return false;
    this.#held.add(key);
    return true;
  }

  async release(key: string): Promise<void> {
    if (!this.#held.delete(key)) return;
    // A failed release only delays the next claimer until the lease expires.
    await this.leases.release(key, this.owner).catch((err) =>
      log.warn("could not release a run lease; it expires by itself", { key, error: errorText(err) })
    );
  }

  async releaseAll(): Promise<void> {
    clearInterval(this.#timer);
    this.#active = false;
    this.#held.clear();
    await this.leases.releaseAll(this.owner).catch((err) =>
      log.warn("could not release run leases; they expire by itself", { error: errorText(err) })
    );
  }

  async #renew(): Promise<void> {
    const keys = [...this.#held];
    if (keys.length === 0) return;
    try {
      const kept = new Set(await this.leases.renew(keys, this.owner, this.ttlMs));
      for (const key of keys) {
        if (kept.has(key) || !this.#held.has(key)) continue;
        // Expired and taken over (e.g. the database was unreachable for longer than the ttl).
        this.#held.delete(key);
        log.warn("lost a run lease; another runner continues from the ledger", { key });
      }
    } catch (err) {
      log.warn("could not renew run leases; retrying", { error: errorText(err) });
    }
  }
}

/** The policy for a store: leases when the backend offers them, the data-dir flock otherwise. */
export function claimsFor(stores: Stores, dataDir: string, leaseTtlS: number): RunClaims {
  return stores.leases
    ? new LeaseClaims(stores.leases, Math.round(leaseTtlS * 1000))
    : new FlockClaims(dataDir);
}

/** Polls `tryClaim` until it succeeds or `signal` aborts (the holder releases, or its lease expires). */
export async function claimWaiting(claims: RunClaims, key: string, signal: AbortSignal): Promise<boolean> {
  for (let delay = 5;; delay = Math.min(delay * 2, 100)) {
    if (await claims.tryClaim(key)) return true;
    if (signal.aborted) return false;
    await abortableDelay(delay, signal);
  }
}
