/**
 * Drains the command inbox in seq order. Each command's outcome and the cursor advance are one
 * durable step (`CommandStore.complete`); an existing outcome means "already applied" and the
 * command is skipped, and per-run effects are exactly-once (run_once.ts), so a crash at any point
 * neither applies a command twice nor skips it.
 */
import { type CommandOutcome, RUNNER_CONSUMER } from "../store/types.ts";
import type { CommandRecord } from "../runtime/types.ts";
import { errorText, type Logger } from "../util/log.ts";
import { nowIso } from "../util/time.ts";
import type { CommandApplier, CommandResult } from "./commands.ts";
import type { RunnerDeps } from "./deps.ts";
import { appendCommandFailure, findByKey } from "./failure_records.ts";

export class CommandDrain {
  #cursor: number | null = null;
  /** The first command after (re)start may have failed just before a crash: check its ledger. */
  #recovering = true;

  constructor(
    private readonly deps: RunnerDeps,
    private readonly applier: CommandApplier,
    private readonly log: Logger,
  ) {}

  /** Applies at most one batch; resolves true when more commands may be waiting. */
  async drainBatch(signal: AbortSignal): Promise<{ applied: number; more: boolean }> {
    const { commands } = this.deps.stores;
    this.#cursor ??= await commands.loadCursor(RUNNER_CONSUMER);
    const limit = this.deps.config.commandBatchLimit;
    const batch = await commands.listAfter(this.#cursor, limit);
    let applied = 0;
    for (const cmd of batch) {
      if (signal.aborted) return { applied, more: true };
      if (!(await commands.getOutcome(cmd.command_id))) {
        await this.#applyOne(cmd);
        applied++;
      }
      this.#cursor = Math.max(this.#cursor, cmd.seq);
    }
    return { applied, more: batch.length === limit };
  }

  async #applyOne(cmd: CommandRecord): Promise<void> {
    const recovered = this.#recovering ? await this.#failedBeforeCrash(cmd) : null;
    this.#recovering = false;
    const result = recovered ?? await this.applier.apply(cmd);
    if (result.status === "failed" && !recovered) {
      this.log.warn("command failed", {
        command_id: cmd.command_id,
        run_id: cmd.run_id,
        seq: cmd.seq,
        type: cmd.type,
        outcome: "failed",
        error: result.error,
      });
      await this.#recordFailure(cmd, result.error ?? "failed");
    }
    const outcome: CommandOutcome = {
      command_id: cmd.command_id,
      seq: cmd.seq,
      run_id: cmd.run_id,
      type: cmd.type,
      status: result.status,
      error: result.error,
      applied_at: nowIso(),
    };
    await this.deps.stores.commands.complete(outcome, RUNNER_CONSUMER);
    if (result.status === "applied") {
      const { command_id, run_id, seq, type } = cmd;
      this.log.info("command applied", { command_id, run_id, seq, type, outcome: "applied" });
    }
    this.log.debug("command payload", { command_id: cmd.command_id, payload: cmd.payload });
  }

  /** A failure record already in the run's ledger means the command failed before a crash. */
  async #failedBeforeCrash(cmd: CommandRecord): Promise<CommandResult | null> {
    if (!cmd.run_id || !(await this.deps.stores.runs.load(cmd.run_id))) return null;
    const record = await findByKey(this.deps.stores.ledger, cmd.run_id, `command:${cmd.command_id}`);
    return record ? { status: "failed", error: record.error ?? "failed" } : null;
  }

  async #recordFailure(cmd: CommandRecord, error: string): Promise<void> {
    try {
      const run = cmd.run_id ? await this.deps.stores.runs.load(cmd.run_id) : null;
      if (run) await appendCommandFailure(this.deps.stores.ledger, run, cmd, error);
    } catch (err) {
      this.log.error("could not record command failure in the ledger", {
        command_id: cmd.command_id,
        error: errorText(err),
      });
    }
  }
}
