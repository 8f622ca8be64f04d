/**
 * Drains the command inbox in seq order, a batch at a time: the commands of a batch are applied in
 * order, then the failures they recorded are made durable (CommandApplier.flush) and their outcomes
 * recorded with the cursor advance as one durable step (`CommandStore.completeMany`). Per-run
 * effects are exactly-once (run_once.ts) and an existing outcome means "already applied", so a
 * crash at any point neither applies a command twice nor skips it: the commands of an unrecorded
 * batch are applied again, and each finds its effect done (or its failure recorded) on its runs.
 */
import { type CommandOutcome, RUNNER_CONSUMER } from "../store/types.ts";
import type { CommandRecord, RunState } from "../runtime/types.ts";
import { idProblem } from "../store/validate.ts";
import { validateOutcome } from "../store/outcome.ts";
import { isDiskFull } from "../util/os_errors.ts";
import { abortableDelay } from "./lock.ts";
import { errorText, type Logger } from "../util/log.ts";
import { nowIso } from "../util/time.ts";
import type { CommandApplier, CommandResult } from "./commands.ts";
import type { RunnerDeps } from "./deps.ts";
import { appendCommandFailure, findByKey } from "./failure_records.ts";

/** Attempts at one command that throws unexpectedly before it is recorded failed (or skipped). */
export const MAX_COMMAND_ATTEMPTS = 3;
const DISK_FULL_BACKOFF_MS = [250, 500, 1_000, 2_000, 5_000];

export class CommandDrain {
  #cursor: number | null = null;
  /** The first command after (re)start may have failed just before a crash: check its ledger. */
  #recovering = true;
  /** Unexpected errors per command seq (a poison command is failed after MAX_COMMAND_ATTEMPTS). */
  readonly #attempts = new Map<number, number>();
  #diskFullStreak = 0;

  constructor(
    private readonly deps: RunnerDeps,
    private readonly applier: CommandApplier,
    private readonly log: Logger,
  ) {}

  /**
   * The inbox was (re)acquired: another runner may have stopped mid-command, so the first command
   * is checked for a failure record written before that stop.
   */
  recover(): void {
    this.#recovering = true;
    this.#cursor = null;
  }

  /** Applies at most one batch; resolves true when more commands may be waiting. */
  async drainBatch(signal: AbortSignal): Promise<{ applied: number; more: boolean }> {
    const { commands } = this.deps.stores;
    this.#cursor ??= await commands.loadCursor(RUNNER_CONSUMER);
    const limit = this.deps.config.commandBatchLimit;
    const batch = await commands.listAfter(this.#cursor, limit);
    const done: CommandOutcome[] = [];
    let applied = 0;
    let more = batch.length === limit;
    let reached = this.#cursor;
    try {
      for (const cmd of batch) {
        if (signal.aborted) {
          more = true;
          break;
        }
        try {
          if (!(await this.#recordedBefore(cmd))) {
            await this.#applyOne(cmd, done);
            applied++;
          }
          this.#diskFullStreak = 0;
        } catch (err) {
          // The retry may follow a failure record written before the error: check for it first.
          this.#recovering = true;
          more = true;
          if (isDiskFull(err)) {
            // Not the command's fault: keep it (and everything after it) until space is freed.
            await this.#backOffDiskFull(cmd, err, signal);
            break;
          }
          if (!(await this.#giveUp(cmd, err, done))) break;
        }
        this.#attempts.delete(cmd.seq);
        reached = cmd.seq;
      }
    } finally {
      await this.#commit(done);
    }
    this.#cursor = Math.max(this.#cursor ?? 0, reached);
    return { applied, more };
  }

  /**
   * An outcome recorded already: after a (re)start, or where another runner may have drained the
   * same commands (a shared store whose inbox claim can move between runners).
   */
  async #recordedBefore(cmd: CommandRecord): Promise<boolean> {
    if (!this.#recovering && !this.deps.stores.leases) return false;
    return (await this.deps.stores.commands.getOutcome(cmd.command_id)) !== null;
  }

  /** Makes the batch's failure records durable, then records its outcomes and moves the cursor. */
  async #commit(done: CommandOutcome[]): Promise<void> {
    await this.applier.flush();
    if (done.length === 0) return;
    const outcomes = done.splice(0);
    try {
      await this.deps.stores.commands.completeMany(outcomes, RUNNER_CONSUMER);
    } catch (err) {
      this.#recovering = true;
      throw err;
    }
    this.#cursor = Math.max(this.#cursor ?? 0, outcomes[outcomes.length - 1].seq);
    for (const { command_id, run_id, seq, type, status } of outcomes) {
      if (status === "applied") {
        this.log.info("command applied", { command_id, run_id, seq, type, outcome: "applied" });
      }
    }
  }

  /**
   * A command that throws outside its own effect (a store cannot take its ids, a bug) is retried a
   * few times, then recorded failed with the reason; if even that cannot be written it is skipped
   * until restart. Resolves true when the drain may move past it.
   */
  async #giveUp(cmd: CommandRecord, err: unknown, done: CommandOutcome[]): Promise<boolean> {
    const attempts = (this.#attempts.get(cmd.seq) ?? 0) + 1;
    this.#attempts.set(cmd.seq, attempts);
    const fields = {
      command_id: cmd.command_id,
      seq: cmd.seq,
      type: cmd.type,
      attempts,
      error: errorText(err),
    };
    if (attempts < MAX_COMMAND_ATTEMPTS) {
      this.log.warn("command could not be applied; retrying", fields);
      return false;
    }
    const error = `Cannot apply command: ${err instanceof Error ? err.message : String(err)}`;
    await this.#commit(done); // the commands before it (a failure here retries the whole batch)
    try {
      await this.#commit([outcomeOf(cmd, { status: "failed", error })]);
      this.log.error("command failed permanently after repeated errors", fields);
    } catch (completeErr) {
      this.log.error("cannot record a command that keeps failing; skipping it until restart", {
        ...fields,
        complete_error: errorText(completeErr),
      });
    }
    this.#recovering = false;
    return true;
  }

  async #backOffDiskFull(cmd: CommandRecord, err: unknown, signal: AbortSignal): Promise<void> {
    const ms = DISK_FULL_BACKOFF_MS[Math.min(this.#diskFullStreak++, DISK_FULL_BACKOFF_MS.length - 1)];
    this.log.error("disk full while applying a command; will retry", {
      command_id: cmd.command_id,
      seq: cmd.seq,
      retry_in_ms: ms,
      error: errorText(err),
    });
    await abortableDelay(ms, signal);
  }

  async #applyOne(cmd: CommandRecord, done: CommandOutcome[]): Promise<void> {
    const recovered = this.#recovering ? await this.#failedBeforeCrash(cmd) : null;
    this.#recovering = false;
    const result = recovered ?? await this.applier.apply(cmd);
    this.log.debug("command payload", { command_id: cmd.command_id, payload: cmd.payload });
    const outcome = outcomeOf(cmd, result);
    validateOutcome(outcome); // one that cannot be recorded must not sink the batch's others
    done.push(outcome);
    if (result.status !== "failed" || recovered) return;
    this.log.warn("command failed", {
      command_id: cmd.command_id,
      run_id: cmd.run_id,
      seq: cmd.seq,
      type: cmd.type,
      outcome: "failed",
      error: result.error,
    });
    if (result.recordedOn?.includes(cmd.run_id)) return;
    // Recorded here, between two commits: an unrecorded failure record is then always the first
    // command after the cursor, the one #failedBeforeCrash checks after a restart.
    const own = done.pop()!;
    await this.#commit(done);
    await this.#recordFailure(cmd, result.error ?? "failed");
    await this.#commit([own]);
  }

  /** A failure record already in the run's ledger means the command failed before a crash. */
  async #failedBeforeCrash(cmd: CommandRecord): Promise<CommandResult | null> {
    const run = await loadRunIfValid(this.deps, cmd.run_id);
    if (!run) return null;
    const record = await findByKey(this.deps.stores.ledger, run.run_id, `command:${cmd.command_id}`);
    return record ? { status: "failed", error: record.error ?? "failed" } : null;
  }

  /**
   * Commands apply in seq order, outcomes before this one were committed, and the first command after
   * a (re)start was checked by #failedBeforeCrash, so this command's record cannot exist yet: append
   * without reading the ledger.
   */
  async #recordFailure(cmd: CommandRecord, error: string): Promise<void> {
    try {
      const run = await loadRunIfValid(this.deps, cmd.run_id);
      if (run) await appendCommandFailure(this.deps.stores.ledger, run, cmd, error, false);
    } catch (err) {
      if (isDiskFull(err)) throw err;
      this.log.error("could not record command failure in the ledger", {
        command_id: cmd.command_id,
        error: errorText(err),
      });
    }
  }
}

function outcomeOf(cmd: CommandRecord, result: CommandResult): CommandOutcome {
  return {
    command_id: cmd.command_id,
    seq: cmd.seq,
    run_id: cmd.run_id,
    type: cmd.type,
    status: result.status,
    error: result.error,
    applied_at: nowIso(),
  };
}

/** The run a command targets, or null when there is none (an emit_event session id such as "a/b"). */
function loadRunIfValid(deps: RunnerDeps, runId: string): Promise<RunState | null> {
  if (!runId || idProblem(runId) !== null) return Promise.resolve(null);
  return deps.stores.runs.load(runId);
}
