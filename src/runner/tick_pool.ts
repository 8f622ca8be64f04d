/**
 * Ticks runs with at most `tickWorkers` in flight and never the same run twice at once. A tick that
 * throws fails a still-running run with a ledger record; a tick that ends a run resumes the parents
 * waiting on it.
 */
import { isTerminal, type RunState } from "../runtime/types.ts";
import { errorText, type Logger } from "../util/log.ts";
import { nowIso } from "../util/time.ts";
import { isDiskFull } from "../util/os_errors.ts";
import type { RunnerDeps } from "./deps.ts";
import { isCronSchedule, retimeCronWait } from "./cron_timer.ts";
import { appendTickFailure } from "./failure_records.ts";
import { LeaseLostError, StoreUnavailableError } from "../store/errors.ts";
import type { RunLocks } from "./run_locks.ts";
import { logTickEnd, logTickStart } from "./run_story.ts";
import { readySince, summarize } from "../store/validate.ts";

/** Workflow ids served by the bundle host: `<bundle>@<version>:<flow>` and `scheduled:<uuid>`. */
const LOADABLE_ID = /^(scheduled:|[^:@]+@[^:]+:)/;
const RELOAD_EVERY_MS = 2_000;
const TICK_BACKOFF_BASE_MS = 250;
const TICK_BACKOFF_MAX_MS = 30_000;
/** An unreachable store is nobody's fault and usually short (a restart): retry its runs at least this often. */
const STORE_DOWN_BACKOFF_MAX_MS = 2_000;
/** A run another runner is ticking, or listed stale, is not tried again before this (no hot loop). */
const CLAIMED_ELSEWHERE_BACKOFF_MS = 150;

export class TickPool {
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #unknownLogged = new Set<string>();
  /** Runs skipped for an unknown workflow are not retried before this time (no hot loop). */
  readonly #skipUntil = new Map<string, number>();
  /** Consecutive failed ticks per run (for the back-off). */
  readonly #failures = new Map<string, number>();
  #lastReload = 0;

  constructor(
    private readonly deps: RunnerDeps,
    private readonly locks: RunLocks,
    private readonly log: Logger,
    /** Called after every tick (a worker slot is free; the run may need another tick). */
    private readonly onDone: () => void,
  ) {}

  get size(): number {
    return this.#inFlight.size;
  }

  get full(): boolean {
    return this.#inFlight.size >= this.deps.config.tickWorkers;
  }

  /** Runs not to tick now (backing off after failures, or of a workflow that is not loaded). */
  backingOff(): string[] {
    const now = Date.now();
    return [...this.#skipUntil].filter(([, until]) => until > now).map(([runId]) => runId);
  }

  /** Runs not to list for a tick now: in flight, backing off, or held by a command. */
  unavailable(): Set<string> {
    const ids = new Set([...this.#inFlight.keys(), ...this.locks.busy()]);
    const now = Date.now();
    for (const [runId, until] of this.#skipUntil) if (until > now) ids.add(runId);
    return ids;
  }

  /** True while a tick of `runId` is in flight. */
  has(runId: string): boolean {
    return this.#inFlight.has(runId);
  }

  /**
   * Starts a tick unless the run is already in flight or the pool is full; true when started. The
   * tick loads the run under its lock (a listing is only a hint of what is runnable).
   */
  submit(runId: string): boolean {
    if (this.full || this.#inFlight.has(runId) || this.locks.isBusy(runId)) return false;
    if ((this.#skipUntil.get(runId) ?? 0) > Date.now()) return false;
    this.#skipUntil.delete(runId);
    const job = this.#tick(runId)
      .then(() => void this.#failures.delete(runId), (err) => this.#backOff(runId, err))
      .finally(() => {
        this.#inFlight.delete(runId);
        this.onDone();
      });
    this.#inFlight.set(runId, job);
    return true;
  }

  /**
   * A tick that could not even record its failure (e.g. the disk is full) is retried after a pause
   * that doubles with each consecutive failure, instead of at once in a hot loop.
   */
  #backOff(runId: string, err: unknown): void {
    const failures = (this.#failures.get(runId) ?? 0) + 1;
    this.#failures.set(runId, failures);
    const cap = err instanceof StoreUnavailableError ? STORE_DOWN_BACKOFF_MAX_MS : TICK_BACKOFF_MAX_MS;
    const ms = Math.min(TICK_BACKOFF_BASE_MS * 2 ** (failures - 1), cap);
    this.#skipUntil.set(runId, Date.now() + ms);
    this.log.error("tick failed; retrying later", {
      run_id: runId,
      failures,
      retry_in_ms: ms,
      error: errorText(err),
    });
  }

  /** Waits for the ticks in flight, at most `timeoutMs`; true when all finished. */
  async drain(timeoutMs: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const all = (async () => {
      while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight.values()]);
      return true as const;
    })();
    try {
      return await Promise.race([all, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Contract §5.2: a run whose bundle/dynamic workflow is not loaded is skipped, not failed: in a
   * split deployment the API process may have installed the bundle (or written the schedule
   * wrapper) after this runner loaded its registry, so reload once before giving up.
   */
  async #workflowLoaded(run: RunState): Promise<boolean> {
    const id = run.workflow_id;
    if (!LOADABLE_ID.test(id) || this.deps.bundles.getWorkflow(id)) return true;
    if (Date.now() - this.#lastReload > RELOAD_EVERY_MS) {
      this.#lastReload = Date.now();
      await this.deps.bundles.reload();
    }
    if (this.deps.bundles.getWorkflow(id)) return true;
    this.#skipUntil.set(run.run_id, Date.now() + RELOAD_EVERY_MS);
    if (!this.#unknownLogged.has(id)) {
      this.#unknownLogged.add(id);
      this.log.warn("skipping runs of a workflow that is not loaded", {
        workflow_id: id,
        run_id: run.run_id,
      });
    }
    return false;
  }

  async #tick(runId: string): Promise<void> {
    // Another runner ticking this run right now (PostgreSQL leases) makes this a no-op.
    const ticked = await this.locks.tryTick(runId, async () => {
      const stamp = this.locks.stamp(runId);
      const before = await this.deps.stores.runs.load(runId);
      if (!before || readySince(summarize(before), nowIso()) === null) {
        // The listing was stale (the run changed since): not again at once, so no hot loop.
        this.#skipUntil.set(runId, Date.now() + CLAIMED_ELSEWHERE_BACKOFF_MS);
        return null;
      }
      if (!(await this.#workflowLoaded(before))) return null;
      logTickStart(this.log, before);
      const was = { status: before.status, waiting: before.waiting && { ...before.waiting } };
      try {
        const ticked = await this.deps.runtime.tick(runId, this.deps.config.tickMaxSteps, {
          run: before,
          // Only this process writes the run (flock): its stamp tells whether a command did meanwhile.
          unchanged: () => this.locks.soleWriter && this.locks.stamp(runId) === stamp,
          checkpoint: (fn) => this.locks.checkpoint(runId, fn),
        });
        if (isCronSchedule(ticked) && ticked.status === "waiting") await this.#saveRetimed(runId);
        return { was, run: ticked };
      } catch (err) {
        // Transient, not the run's fault (a full disk, PostgreSQL restarting): leave it running from its
        // last checkpoint and tick it again after a pause.
        if (isDiskFull(err) || err instanceof StoreUnavailableError) throw err;
        // Our lease was taken over mid-tick: the new holder continues; this runner writes nothing more.
        if (err instanceof LeaseLostError) return await this.#leaseLost(runId, err);
        const run = await this.locks.section(runId, () => this.#failRun(runId, err));
        return run && { was, run };
      }
    });
    if (ticked === "skipped") {
      this.#skipUntil.set(runId, Date.now() + CLAIMED_ELSEWHERE_BACKOFF_MS);
      return;
    }
    if (!ticked.value) return;
    const { was, run } = ticked.value;
    logTickEnd(this.log, was, run);
    if (isTerminal(run.status) && run.parent_run_id) {
      await this.locks.with(run.parent_run_id, () => this.deps.runtime.resumeParentsOf(run.run_id));
    }
  }

  /** Re-times a cron wait the tick reached, from the run as stored (a command may have changed it since). */
  #saveRetimed(runId: string): Promise<void> {
    return this.locks.section(runId, async () => {
      const run = await this.deps.stores.runs.load(runId);
      if (run && retimeCronWait(run)) await this.deps.stores.runs.save(run);
    });
  }

  #leaseLost(runId: string, err: LeaseLostError): Promise<null> {
    this.log.warn("run lease lost mid-tick; stopped writing, another runner continues", {
      run_id: runId,
      error: err.message,
    });
    return Promise.resolve(null);
  }

  /** Contract §5.2: an exception escaping tick fails a run that is still running. */
  async #failRun(runId: string, err: unknown): Promise<RunState | null> {
    const error = errorText(err);
    this.log.error("tick raised", { run_id: runId, error });
    const run = await this.deps.stores.runs.load(runId);
    if (!run || run.status !== "running") return run;
    run.status = "failed";
    run.error = error;
    run.waiting = null;
    run.updated_at = nowIso();
    // Record first: a crash in between leaves the run running, it is re-ticked and the append dedupes.
    await appendTickFailure(this.deps.stores.ledger, run, error);
    await this.deps.stores.runs.save(run);
    return run;
  }
}
