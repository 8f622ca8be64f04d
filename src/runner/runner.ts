/**
 * The runner: applies inbox commands and advances runs. Which runs it may touch is a RunClaims
 * policy: one runner per data dir (flock) on file/SQLite, any number sharing PostgreSQL through
 * leases (the inbox lease holder alone applies commands). The loop is
 * push-driven — store wake-ups (`commands`, `runs`), `kick()` from the HTTP API, finished ticks and a
 * timer on the next due `until` wait — with a safety-net poll every `config.pollS`.
 */
import { isTerminal } from "../runtime/types.ts";
import { errorText, logger } from "../util/log.ts";
import { nowIso } from "../util/time.ts";
import { CommandApplier } from "./commands.ts";
import { CommandDrain } from "./command_drain.ts";
import { beat, type BeatTarget } from "./heartbeat.ts";
import type { RunnerDeps } from "./deps.ts";
import { isCronSchedule, retimeCronWait } from "./cron_timer.ts";
import { claimsFor, INBOX_KEY, LeaseClaims, type RunClaims } from "./claims.ts";
import { RunLocks } from "./run_locks.ts";
import { isPaused } from "./run_once.ts";
import { TickPool } from "./tick_pool.ts";
import { RUN_TOPIC_PREFIX, RUNS_CLAIMABLE } from "../store/wake.ts";

const log = logger("runner");
/** How long stop() lets in-flight ticks finish before releasing the lock anyway. */
const STOP_TICK_GRACE_MS = 4_000;
const REPAIR_EVERY_MS = 1_000;
/** Longest single sleep when a timer is armed far ahead (the poll bounds it anyway). */
const MAX_TIMER_MS = 60_000;
/** How often a runner that does not hold the command inbox lease checks whether it is free. */
const INBOX_RETRY_MS = 1_000;
/**
 * Leases: store wake-ups (every save on every node notifies every runner) are coalesced over this
 * window, so a burst of saves costs each runner one pass instead of one pass per save.
 */
const WAKE_COALESCE_MS = 20;
/**
 * Leases: NOTIFY wakes the runners for new runs and commands, so the poll only catches what sends no
 * notification (a dead runner's lease expiring) and missed ones; polling faster would cost every idle
 * runner queries for nothing.
 */
const LEASE_POLL_MIN_MS = 1_000;

export class Runner {
  readonly #deps: RunnerDeps;
  readonly #claims: RunClaims;
  readonly #locks: RunLocks;
  readonly #ticks: TickPool;
  readonly #drain: CommandDrain;
  readonly #abort = new AbortController();
  readonly #ready = Promise.withResolvers<boolean>();
  #main: Promise<Error | null> | null = null;
  #kicked = false;
  /**
   * True when the inbox may hold unapplied commands: set by a `commands` wake-up, the safety poll, a
   * kick from the API, or a batch that was full; a wake-up that only means "runs to claim" (every run
   * started on any node wakes every runner) does not cost an inbox query.
   */
  #commandsDue = true;
  /** Likewise for claiming runs to tick: not set by a `commands` wake-up. */
  #runsDue = true;
  /** When the earliest pending `until` wait falls due (Date.now() scale), and whether to look it up again. */
  #timerAt = Infinity;
  #timerStale = true;
  #wakeSleeper: (() => void) | null = null;
  #lastRepair = 0;
  #inboxRetryAt = 0;
  #coalescing: ReturnType<typeof setTimeout> | undefined;
  #holdingInbox = false;

  constructor(deps: RunnerDeps) {
    this.#deps = deps;
    this.#claims = claimsFor(deps.stores, deps.config.dataDir, deps.config.leaseTtlS);
    this.#locks = new RunLocks(this.#claims, this.#abort.signal);
    this.#ticks = new TickPool(deps, this.#locks, log, () => {
      this.#runsDue = true; // a worker is free, and the run may need another tick
      this.#wake();
    });
    this.#drain = new CommandDrain(deps, new CommandApplier(deps, this.#locks), log);
  }

  /** Resolves true once this runner holds the data-dir lock and ticks; false if stopped before. */
  get ready(): Promise<boolean> {
    return this.#ready.promise;
  }

  get hasLock(): boolean {
    return this.#claims.held;
  }

  /** The data-dir lock file, or the lease owner on PostgreSQL. */
  get lockPath(): string {
    return this.#claims.describe;
  }

  /**
   * Resolves when the loop has ended: null after stop(), the error when it crashed (e.g. the lock
   * file cannot be opened), so a standalone runner can exit non-zero instead of idling.
   */
  get exited(): Promise<Error | null> {
    return this.#main ?? Promise.resolve(null);
  }

  /** Starts the loop in the background; it begins work once the data-dir lock is acquired. */
  start(): Promise<void> {
    if (!this.#main && !this.#abort.signal.aborted) {
      this.#main = this.#run().then(
        () => null,
        (err) => {
          log.error("runner loop crashed", { error: errorText(err) });
          void this.#claims.releaseAll();
          this.#ready.resolve(false);
          return err instanceof Error ? err : new Error(String(err));
        },
      );
    }
    return Promise.resolve();
  }

  /** Stops taking work, lets in-flight ticks finish (bounded), releases the lock. */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.kick();
    await this.#main;
    this.#ready.resolve(false);
  }

  /** Wakes the loop now (e.g. after the API appended a command or started a run). */
  kick(): void {
    this.#commandsDue = true;
    this.#runsDue = true;
    this.#wake();
  }

  /** Wakes the loop for what the `…Due` flags say. */
  #wake(): void {
    this.#kicked = true;
    this.#wakeSleeper?.();
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    let waited = false;
    const acquired = await this.#claims.acquire(signal, () => {
      waited = true;
      log.warn("another runner holds the data-dir lock; waiting to take over", {
        lock: this.#claims.describe,
      });
    });
    if (!acquired) {
      await this.#claims.releaseAll();
      return;
    }
    const how = waited ? " (taken over from the previous runner)" : "";
    log.info(`runner lock acquired${how}; runner active`, { lock: this.#claims.describe, pid: Deno.pid });
    // With leases, only saves that leave claimable work wake the runner (not other runners' steps).
    const topics = ["commands", this.#claims.claimRunnable ? RUNS_CLAIMABLE : "runs"];
    const unsubscribe = topics.map((topic) =>
      this.#deps.stores.wake.subscribe(topic, (t) => this.#storeWake(t))
    );
    this.#ready.resolve(true);
    const heart = new AbortController();
    const beating = beat(this.#beatTarget(), heart.signal);
    try {
      while (!signal.aborted) {
        this.#kicked = false;
        let sleepMs = this.#pollMs();
        try {
          if (this.#commandsDue && await this.#holdsInbox()) {
            this.#commandsDue = false; // a wake-up during the drain sets it again
            const { applied, more } = await this.#drain.drainBatch(signal).catch((err) => {
              this.#commandsDue = true;
              throw err;
            });
            if (applied > 0) this.#runsDue = true; // a resume, say, leaves a run to tick
            if (more) this.kick();
          }
          if (signal.aborted) break;
          if (this.#runsDue) {
            this.#runsDue = false;
            await this.#scheduleTicks().catch((err) => {
              this.#runsDue = true;
              throw err;
            });
            this.#timerStale = true;
          }
          await this.#repairParents();
          // Kicked: no sleep follows, so the next timer is looked up on a later pass (one query saved).
          if (this.#timerStale && !this.#kicked) {
            this.#timerAt = Date.now() + await this.#msUntilNextTimer();
            this.#timerStale = false;
          }
          sleepMs = Math.min(sleepMs, Math.max(0, this.#timerAt - Date.now()));
        } catch (err) {
          log.error("runner loop iteration failed", { error: errorText(err) });
        }
        await this.#sleep(sleepMs);
      }
    } finally {
      heart.abort();
      await beating;
      unsubscribe.forEach((off) => off());
      clearTimeout(this.#coalescing);
      if (await this.#ticks.drain(STOP_TICK_GRACE_MS)) {
        await this.#locks.idle();
      } else {
        // Every step is checkpointed: the next runner re-ticks these runs from their last step.
        log.warn("stopping with ticks still in flight; they resume from their last checkpoint", {
          in_flight: this.#ticks.size,
        });
      }
      await this.#claims.releaseAll();
      log.info("runner stopped; lock released", { lock: this.#claims.describe });
    }
  }

  #pollMs(): number {
    const ms = this.#deps.config.pollS * 1000;
    return this.#claims.claimRunnable ? Math.max(ms, LEASE_POLL_MIN_MS) : ms;
  }

  /** Leases on a shared store: beat into its registry (seen by every node); else the data-dir file. */
  #beatTarget(): BeatTarget {
    const registry = this.#deps.stores.runners;
    return registry && this.#claims instanceof LeaseClaims
      ? { registry, runnerId: this.#claims.owner }
      : { dataDir: this.#deps.config.dataDir };
  }

  #storeWake(topic: string): void {
    if (!this.#claims.claimRunnable) return this.#localWake(topic);
    if (topic === "commands") {
      // Only the inbox holder drains commands; the others look for the inbox on their poll. Neither
      // claims runs for it: a command is not a run to tick (an applied one sets #runsDue itself).
      if (Date.now() < this.#inboxRetryAt) return;
      this.#commandsDue = true;
    } else if (topic === RUNS_CLAIMABLE) {
      this.#runsDue = true;
    } else {
      this.#commandsDue = this.#runsDue = true; // the safety poll's `changed`
    }
    this.#coalescing ??= setTimeout(() => {
      this.#coalescing = undefined;
      this.#wake();
    }, WAKE_COALESCE_MS);
  }

  /**
   * One runner per data dir: a `commands` wake-up costs an inbox query, a run save a scheduling
   * query, except the saves of the runs this runner is ticking (the tick's end schedules again).
   */
  #localWake(topic: string): void {
    if (topic === "commands") {
      this.#commandsDue = true;
    } else if (topic.startsWith(RUN_TOPIC_PREFIX)) {
      if (this.#ticks.has(topic.slice(RUN_TOPIC_PREFIX.length))) return;
      this.#runsDue = true;
    } else {
      this.#commandsDue = this.#runsDue = true; // `runs` (some run) or `changed`
    }
    this.#wake();
  }

  /** True when this runner may drain the inbox; a refused claim is not retried for a while. */
  async #holdsInbox(): Promise<boolean> {
    if (Date.now() < this.#inboxRetryAt) return false;
    if (await this.#claims.tryClaim(INBOX_KEY)) {
      if (!this.#holdingInbox) this.#drain.recover(); // whoever held it may have stopped mid-command
      this.#holdingInbox = true;
      return true;
    }
    this.#holdingInbox = false;
    this.#inboxRetryAt = Date.now() + INBOX_RETRY_MS;
    return false;
  }

  /**
   * Runnable runs, longest ready first (FIFO: the run that waited longest for a tick goes first, so
   * steady arrivals do not starve older runs), as many as there are free tick workers: ids only, each
   * tick loads its run under the run's lock. A full pool is listed again when a tick ends.
   */
  async #scheduleTicks(): Promise<void> {
    if (this.#ticks.full) return;
    if (this.#claims.claimRunnable) return await this.#scheduleClaimed(this.#claims.claimRunnable);
    const free = this.#deps.config.tickWorkers - this.#ticks.size;
    const ids = await this.#deps.stores.runs.listRunnable(nowIso(), free, this.#ticks.unavailable());
    for (const runId of ids) this.#ticks.submit(runId);
  }

  /**
   * Leases: one query claims as many runnable runs as there are free tick workers (runners that ask
   * at once get disjoint batches); each tick releases its run's lease when it ends.
   */
  async #scheduleClaimed(claimRunnable: NonNullable<RunClaims["claimRunnable"]>): Promise<void> {
    const free = this.#deps.config.tickWorkers - this.#ticks.size;
    const claimed = await claimRunnable.call(this.#claims, free, this.#ticks.backingOff());
    for (const run of claimed) {
      if (!this.#ticks.submit(run.run_id)) await this.#claims.release(run.run_id);
    }
    if (claimed.length === free) this.#runsDue = this.#kicked = true; // a full batch: more may be waiting
  }

  /** Crash recovery: parents still waiting on a child that already ended are resumed. */
  async #repairParents(): Promise<void> {
    if (Date.now() - this.#lastRepair < REPAIR_EVERY_MS) return;
    this.#lastRepair = Date.now();
    const { runs } = this.#deps.stores;
    const page = await runs.list({
      status: "waiting",
      waitReason: "subworkflow",
      actorId: "gateway",
      limit: this.#deps.config.runScanLimit,
    });
    await this.#retimeCronWaits();
    for (const parent of page.items) {
      const childId = parent.waiting?.details?.sub_run_id;
      if (typeof childId !== "string" || isPaused(parent)) continue;
      const child = await runs.load(childId);
      if (!child || !isTerminal(child.status)) continue;
      try {
        // A parent claimed by another runner is that runner's to resume (or the next round's).
        await this.#locks.tryWith(parent.run_id, () => this.#deps.runtime.resumeParentsOf(childId));
      } catch (err) {
        log.warn("could not resume parent of a finished child", {
          run_id: parent.run_id,
          child_run_id: childId,
          error: errorText(err),
        });
      }
    }
  }

  /** Cron roots that reached `wait_interval` while no tick re-timed them (e.g. across a restart). */
  async #retimeCronWaits(): Promise<void> {
    const { runs } = this.#deps.stores;
    const page = await runs.list({
      status: "waiting",
      waitReason: "until",
      limit: this.#deps.config.runScanLimit,
    });
    for (const candidate of page.items.filter(isCronSchedule)) {
      await this.#locks.tryWith(candidate.run_id, async () => {
        const run = await runs.load(candidate.run_id);
        if (run && retimeCronWait(run)) await runs.save(run);
      });
    }
  }

  /** Milliseconds until the earliest pending `until` wait (a past one is the poll's business). */
  async #msUntilNextTimer(): Promise<number> {
    const next = await this.#deps.stores.runs.nextWaitUntil();
    if (!next) return Infinity;
    const ms = Date.parse(next) - Date.now();
    // +2 ms: the due check compares ISO strings, so wake strictly after `until`.
    return ms > 0 ? Math.min(ms + 2, MAX_TIMER_MS) : Infinity;
  }

  #sleep(ms: number): Promise<void> {
    if (this.#kicked || this.#abort.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakeSleeper = null;
        resolve();
      };
      const timer = setTimeout(() => {
        // The poll or a due timer: a missed wake-up costs latency, never a command or a tick.
        this.#commandsDue = this.#runsDue = true;
        done();
      }, ms);
      this.#wakeSleeper = done;
    });
  }
}
