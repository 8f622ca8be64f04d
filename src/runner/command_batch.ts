/**
 * What one drained batch of commands shares, so that a burst costs a few writes instead of several
 * per command: the runs waiting on each event key (listed once per batch), and for each run the
 * batch touches, its state (loaded once) plus the failures its commands recorded against it, made
 * durable by `flush` with one run save and one ledger append per run. A command is judged in memory
 * when its precheck settles it from the run's state alone (a resume of a run that is not waiting, an
 * event for a run waiting on something else); anything else flushes that run and takes the
 * exactly-once path (run_once.ts). In-memory judgements see the run as loaded at its first command
 * of the batch, and commands that change runs outside that path (pause, cancel, …) flush first.
 */
import type { CommandRecord, RunState, StepRecord } from "../runtime/types.ts";
import type { Stores } from "../store/types.ts";
import { commandFailureRecord } from "./failure_records.ts";
import { listEventWaiters } from "./emit_event.ts";
import type { RunLocks } from "./run_locks.ts";
import { isNewOnRun, markPendingRange, RunNotFoundError } from "./run_once.ts";

/**
 * What a command would do to a run, judged from the run's state alone: nothing ("noop") or a real
 * effect ("apply"). It throws, changing nothing, when the command fails on this run.
 */
export type Precheck = (run: RunState) => "noop" | "apply";

export type Judgement = { kind: "done" } | { kind: "failed"; error: unknown } | { kind: "apply" };

interface RunEntry {
  run: RunState;
  failures: StepRecord[];
  first: number;
  last: number;
}

const errorMessage = (err: unknown): string => err instanceof Error ? err.message : String(err);

export class CommandBatch {
  #runs = new Map<string, RunEntry>();
  #waiters = new Map<string, Promise<RunState[]>>();

  constructor(private readonly stores: Stores, private readonly locks: RunLocks) {}

  /** Every run waiting on `waitKey`, listed once per batch. */
  waiters(waitKey: string): Promise<RunState[]> {
    let listed = this.#waiters.get(waitKey);
    if (!listed) {
      listed = listEventWaiters(this.stores.runs, waitKey);
      this.#waiters.set(waitKey, listed);
      listed.catch(() => this.#waiters.delete(waitKey));
    }
    return listed;
  }

  /**
   * Judges command `cmd` on run `runId` (the caller holds the run's lock). "failed": its failure
   * record waits for `flush`; "done": nothing to do; "apply": the caller applies it through the
   * exactly-once path (this run's recorded failures were made durable first).
   */
  async judge(runId: string, cmd: CommandRecord, precheck: Precheck): Promise<Judgement> {
    let entry = this.#runs.get(runId);
    if (!entry) {
      const run = await this.stores.runs.load(runId);
      if (!run) throw new RunNotFoundError(runId);
      // Done, or interrupted by a crash: the exactly-once path knows what to do with it.
      if (!isNewOnRun(run, cmd.seq)) return { kind: "apply" };
      entry = { run, failures: [], first: 0, last: 0 };
      this.#runs.set(runId, entry);
    }
    let verdict: "noop" | "apply";
    try {
      verdict = precheck(entry.run);
    } catch (error) {
      entry.failures.push(commandFailureRecord(entry.run, cmd, errorMessage(error)));
      if (entry.first === 0) entry.first = cmd.seq;
      entry.last = cmd.seq;
      return { kind: "failed", error };
    }
    if (verdict === "noop") return { kind: "done" };
    this.#runs.delete(runId);
    await this.#write(runId, entry);
    return { kind: "apply" };
  }

  /** Makes every recorded failure durable and forgets what the batch loaded. */
  async flush(): Promise<void> {
    const runs = this.#runs;
    this.#runs = new Map();
    this.#waiters = new Map();
    for (const [runId, entry] of runs) {
      if (entry.failures.length > 0) await this.locks.with(runId, () => this.#write(runId, entry));
    }
  }

  /**
   * One save marking the failed commands pending (so a crash before the append makes them retries,
   * recorded once), then one append of their records. The run is re-read: a tick may have saved it.
   */
  async #write(runId: string, entry: RunEntry): Promise<void> {
    if (entry.failures.length === 0) return;
    const run = await this.stores.runs.load(runId);
    if (!run) return;
    markPendingRange(run, entry.first, entry.last);
    await this.stores.runs.save(run);
    await this.stores.ledger.append(runId, entry.failures);
  }
}
