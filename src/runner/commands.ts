/**
 * Applies one inbox command (contract §5.3, runtime-model §4) with our fixes: tree walks read the
 * store, emit_event resumes every match and collects failures, deliveries of a payload (resume
 * with payload, emit_event) are exactly-once per run (run_once.ts) while pause/unpause/cancel are
 * idempotent, and the outcome is returned for the command store instead of only being logged.
 */
import { type CommandRecord, isTerminal, type RunState } from "../runtime/types.ts";
import { nowIso } from "../util/time.ts";
import { CommandError } from "./command_errors.ts";
import { isObject, optionalString } from "./command_payload.ts";
import type { RunnerDeps } from "./deps.ts";
import { isPauseWait } from "../runtime/engine/waits.ts";
import { planEventDelivery } from "./emit_event.ts";
import { CommandBatch, type Precheck } from "./command_batch.ts";
import { assertResumable } from "../runtime/engine/resume.ts";
import type { RunLocks } from "./run_locks.ts";
import { applyToRunOnce, isPaused, RunNotFoundError } from "./run_once.ts";
import { appendCommandFailure, findByKey } from "./failure_records.ts";
import { isDiskFull } from "../util/os_errors.ts";
import { LeaseLostError } from "../store/errors.ts";
import { isRecurrentSchedule } from "./schedule_meta.ts";
import { findRoot, listTree } from "./tree.ts";
import { applyScheduleUpdate } from "./update_schedule.ts";

export interface CommandResult {
  status: "applied" | "failed";
  error: string | null;
  /** Runs whose ledger already holds this command's failure record (written while applying it). */
  recordedOn?: string[];
}

const errorMessage = (err: unknown): string => err instanceof Error ? err.message : String(err);

export const COMPACT_MEMORY_UNSUPPORTED = "compact_memory is not supported by this gateway yet";

/** Commands that may answer a wait: their failures and no-ops are judged in memory (command_batch.ts). */
const judgedInMemory = (cmd: CommandRecord) =>
  cmd.type === "emit_event" || (cmd.type === "resume" && "payload" in cmd.payload);

export class CommandApplier {
  readonly #batch: CommandBatch;

  constructor(private readonly deps: RunnerDeps, private readonly locks: RunLocks) {
    this.#batch = new CommandBatch(deps.stores, locks);
  }

  /**
   * Makes the failures recorded since the last flush durable; call it before recording the outcomes
   * of the commands applied since (a failed outcome must not exist without its ledger record).
   */
  flush(): Promise<void> {
    return this.#batch.flush();
  }

  /** The command's outcome; a full disk is thrown instead (transient: the drain retries it). */
  async apply(cmd: CommandRecord): Promise<CommandResult> {
    const recorded = new Set<string>();
    try {
      // Other commands write runs outside the batch's view of them: start from the stores again.
      if (!judgedInMemory(cmd)) await this.#batch.flush();
      await this.#dispatch(cmd, recorded);
      return { status: "applied", error: null };
    } catch (err) {
      // Transient, not the command's failure: the drain retries it (under a fresh lease).
      if (isDiskFull(err) || err instanceof LeaseLostError) throw err;
      return { status: "failed", error: errorMessage(err), recordedOn: [...recorded] };
    }
  }

  #dispatch(cmd: CommandRecord, recorded: Set<string>): Promise<void> {
    if (!cmd.run_id || cmd.run_id.trim() === "") throw new CommandError("run_id is required");
    switch (cmd.type) {
      case "pause":
        return this.#pause(cmd);
      case "resume":
        return "payload" in cmd.payload ? this.#answerWait(cmd, recorded) : this.#unpause(cmd);
      case "cancel":
        return this.#cancel(cmd);
      case "emit_event":
        return this.#emitEvent(cmd, recorded);
      case "update_schedule":
        return applyScheduleUpdate(this.deps, cmd, (runId, fn) => this.locks.with(runId, fn));
      case "compact_memory":
        throw new CommandError(COMPACT_MEMORY_UNSUPPORTED);
      default:
        throw new CommandError(
          `unknown command type '${String(cmd.type)}' (expected pause|resume|cancel|emit_event|` +
            `update_schedule|compact_memory)`,
        );
    }
  }

  /**
   * Applies `effect` to one run exactly once; a failure is recorded in that run's ledger before the
   * run is marked done, and a re-application after a crash reports that recorded failure again.
   * Runs whose ledger got (or already had) the failure record are added to `recorded`.
   */
  #onRun(
    cmd: CommandRecord,
    runId: string,
    recorded: Set<string>,
    precheck: Precheck,
    effect: (run: RunState) => Promise<unknown>,
  ) {
    const { stores } = this.deps;
    const recordFailure = async (err: unknown, retry: boolean) => {
      const run = await stores.runs.load(runId);
      if (!run) return;
      await appendCommandFailure(stores.ledger, run, cmd, errorMessage(err), retry);
      recorded.add(runId);
    };
    return this.locks.with(runId, async () => {
      const judged = await this.#batch.judge(runId, cmd, precheck);
      if (judged.kind === "done") return;
      if (judged.kind === "failed") {
        recorded.add(runId);
        throw judged.error;
      }
      if (await applyToRunOnce(stores, runId, cmd.seq, effect, recordFailure) === "skipped") {
        const failure = await findByKey(stores.ledger, runId, `command:${cmd.command_id}`);
        if (failure) {
          recorded.add(runId);
          throw new CommandError(failure.error ?? "failed");
        }
      }
    });
  }

  async #tree(runId: string): Promise<RunState[]> {
    const root = await this.deps.stores.runs.load(runId);
    if (!root) throw new RunNotFoundError(runId);
    return listTree(this.deps.stores.runs, root);
  }

  /**
   * pause / unpause / cancel are idempotent (re-applying one after a crash changes nothing), so they
   * need no exactly-once marks. Each run is changed in its write section (run_locks.ts): not after a
   * tick in flight on it, which would stall the inbox behind a long step (an LLM call), but between
   * two of that tick's checkpoints; the section's stamp makes the tick re-read the run at the next
   * one, so it stops there instead of overwriting the change.
   */
  async #pause(cmd: CommandRecord): Promise<void> {
    const reason = optionalString(cmd.payload, "reason");
    await this.#eachMember(cmd.run_id, (run) => {
      if (isTerminal(run.status) || isPaused(run)) return;
      if (run.waiting?.reason === "user" && !isPauseWait(run.run_id, run.waiting)) return; // a real prompt
      return this.deps.runtime.pause(run.run_id, reason);
    });
  }

  /** Tree-wide unpause; a recurrent scheduled root waiting `until` then fires at once. */
  async #unpause(cmd: CommandRecord): Promise<void> {
    const tree = await this.#eachMember(cmd.run_id, (run) => {
      if (!isTerminal(run.status) && isPaused(run)) return this.deps.runtime.unpause(run.run_id);
    });
    const root = await findRoot(this.deps.stores.runs, tree[0]);
    if (isRecurrentSchedule(root)) {
      await this.locks.with(root.run_id, () => this.#fireScheduleNow(root.run_id));
    }
  }

  /** Applies `change` to every run of `runId`'s tree as stored, in that run's write section; resolves the tree. */
  async #eachMember(runId: string, change: (run: RunState) => Promise<unknown> | void): Promise<RunState[]> {
    const tree = await this.#tree(runId);
    for (const member of tree) {
      await this.locks.section(member.run_id, async () => {
        const run = await this.deps.stores.runs.load(member.run_id);
        if (run) await change(run);
      });
    }
    return tree;
  }

  async #fireScheduleNow(runId: string): Promise<void> {
    const run = await this.deps.stores.runs.load(runId);
    if (!run || run.status !== "waiting" || run.waiting?.reason !== "until" || isPaused(run)) return;
    run.waiting.until = nowIso();
    run.updated_at = nowIso();
    await this.deps.stores.runs.save(run);
  }

  async #cancel(cmd: CommandRecord): Promise<void> {
    const reason = optionalString(cmd.payload, "reason");
    await this.#eachMember(cmd.run_id, (run) => {
      if (!isTerminal(run.status)) return this.deps.runtime.cancel(run.run_id, reason);
    });
  }

  async #answerWait(cmd: CommandRecord, recorded: Set<string>): Promise<void> {
    const payload = cmd.payload.payload;
    if (!isObject(payload)) throw new CommandError("resume payload.payload must be an object");
    const waitKey = optionalString(cmd.payload, "wait_key", "waitKey");
    const precheck: Precheck = (run) => {
      assertResumable(run, waitKey);
      return "apply";
    };
    await this.#onRun(cmd, cmd.run_id, recorded, precheck, (run) => {
      precheck(run);
      return this.deps.runtime.resume(run.run_id, { waitKey, payload, maxSteps: 0 });
    });
  }

  async #emitEvent(cmd: CommandRecord, recorded: Set<string>): Promise<void> {
    const { waitKey, envelope } = planEventDelivery(cmd);
    const errors: string[] = [];
    const waiters = await this.#batch.waiters(waitKey);
    const precheck: Precheck = (run) => {
      if (run.status !== "waiting" || run.waiting?.wait_key !== waitKey) return "noop";
      if (isPaused(run)) throw new CommandError("Run is paused");
      return "apply";
    };
    for (const waiter of waiters) {
      try {
        await this.#onRun(cmd, waiter.run_id, recorded, precheck, async (run) => {
          if (precheck(run) === "noop") return;
          await this.deps.runtime.resume(run.run_id, { waitKey, payload: envelope, maxSteps: 0 });
        });
      } catch (err) {
        errors.push(`${waiter.run_id}: ${errorMessage(err)}`);
      }
    }
    if (errors.length > 0) {
      throw new CommandError(
        `emit_event ${waitKey}: ${errors.length} of ${waiters.length} deliveries failed: ${
          errors.join("; ")
        }`,
      );
    }
  }
}
