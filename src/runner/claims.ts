/**
 * "Who may tick what": the runner asks a RunClaims policy before it touches a run.
 * - FlockClaims (file, SQLite): one runner per data dir holds the flock; it may touch every run.
 * - LeaseClaims (PostgreSQL): any number of runners; each run (and the command inbox) is claimed
 *   with a lease that is renewed while held and released after use; a runner killed with kill -9
 *   loses its leases when they expire and another runner continues from the ledger.
 */
import type { LeaseStore, Stores } from "../store/types.ts";
import type { RunState } from "../runtime/types.ts";
import type { LeaseFence } from "../store/fence.ts";
import { errorText, logger } from "../util/log.ts";
import { abortableDelay, RunnerLock } from "./lock.ts";
import { nowIso } from "../util/time.ts";

/** The lease key of the command inbox: its holder alone drains commands (applied exactly once). */
export const INBOX_KEY = "__gateway_inbox__";

export interface RunClaims {
  /** For logs and `gateway runner` output: the lock file, or the lease owner id. */
  readonly describe: string;
  /** True while this runner is admitted (holds the data-dir lock, or has started leasing). */
  readonly held: boolean;
  /**
   * True when no other process writes a run this runner holds (the flock: the API never rewrites an
   * existing run); with leases, another runner applying a pause or cancel may.
   */
  readonly soleWriter: boolean;
  /** Waits until this runner may work at all; false when `signal` aborted first. */
  acquire(signal: AbortSignal, onWait: () => void): Promise<boolean>;
  /** Non-blocking: true when this runner now holds `key` (a run id or INBOX_KEY) until release. */
  tryClaim(key: string): Promise<boolean>;
  release(key: string): Promise<void>;
  /** The fence for writes to a held run (null without leases: nothing to fence). */
  fence(key: string): LeaseFence | null;
  /**
   * Leases only: claims up to `limit` runnable runs not held by anyone, in one round trip (instead of
   * listing every running run and claiming them one by one); `exclude` names runs not to take now.
   */
  claimRunnable?(limit: number, exclude: string[]): Promise<RunState[]>;
  /** Drops everything held; safe to call more than once. */
  releaseAll(): Promise<void>;
}

export class FlockClaims implements RunClaims {
  readonly soleWriter = true;
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

  fence(): null {
    return null;
  }

  releaseAll(): Promise<void> {
    this.#lock.release();
    return Promise.resolve();
  }
}

const log = logger("runner");

export class LeaseClaims implements RunClaims {
  readonly soleWriter = false;
  readonly owner = `runner-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  /** Held keys and the fencing token of each claim. */
  readonly #held = new Map<string, number>();
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
    const token = await this.leases.claim(key, this.owner, this.ttlMs);
    if (token === null) return false;
    this.#held.set(key, token);
    return true;
  }

  async claimRunnable(limit: number, exclude: string[]): Promise<RunState[]> {
    if (!this.#active) return [];
    const claimed = await this.leases.claimRunnable({
      owner: this.owner,
      ttlMs: this.ttlMs,
      limit,
      nowIso: nowIso(),
      exclude,
    });
    for (const { run, token } of claimed) this.#held.set(run.run_id, token);
    return claimed.map((c) => c.run);
  }

  fence(key: string): LeaseFence | null {
    const token = this.#held.get(key);
    return token === undefined ? null : { runId: key, owner: this.owner, token };
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
    const keys = [...this.#held.keys()];
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
