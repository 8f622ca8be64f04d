/**
 * Terminal transitions and checkpoints: records first (a client that sees the saved run state and
 * re-reads the ledger gets every record), then the run. A crash in between leaves the records of a
 * transition the run state does not show; the redo appends them only if they are not there yet.
 */
import type { JsonObject, RunState, RunStatus, StepRecord } from "../types.ts";
import { nowIso } from "../../util/time.ts";
import { RuntimeError } from "../errors.ts";
import type { EngineHost } from "./host.ts";
import { scanFromNewest } from "./ledger_tail.ts";
import { completionRecord, nodeFailureRecord, terminalStatusRecord } from "./records.ts";

export async function loadRun(host: EngineHost, runId: string): Promise<RunState> {
  const run = await host.stores.runs.load(runId);
  if (!run) throw new RuntimeError("run_not_found", `Run not found: ${runId}`);
  return run;
}

export async function saveRun(host: EngineHost, run: RunState): Promise<void> {
  run.updated_at = nowIso();
  await host.stores.runs.save(run);
}

export async function appendRecords(host: EngineHost, runId: string, records: StepRecord[]): Promise<void> {
  if (records.length > 0) await host.stores.ledger.append(runId, records);
}

/**
 * The records to append for a terminal transition: `records` followed by the run's terminal
 * `abstract.status` record — none when the ledger already holds that status record (the batch was
 * appended before a crash that prevented the run save, and it is not written twice).
 */
async function terminalBatch(
  host: EngineHost,
  run: RunState,
  status: RunStatus,
  records: StepRecord[],
): Promise<StepRecord[]> {
  const terminal = terminalStatusRecord(run, status);
  const key = terminal.idempotency_key;
  if (await scanFromNewest(host.stores.ledger, run.run_id, (r) => r.idempotency_key === key || undefined)) {
    return [];
  }
  return [...records, terminal];
}

/** Appends `records` followed by the run's terminal `abstract.status` record, in one batch (once). */
export async function appendTerminalRecords(
  host: EngineHost,
  run: RunState,
  status: RunStatus,
  records: StepRecord[],
): Promise<void> {
  await appendRecords(host, run.run_id, await terminalBatch(host, run, status, records));
}

/**
 * Ends a run: its terminal records, then the run — as one durable write where the store offers it
 * (SQLite, PostgreSQL: one transaction), else records first, then the run.
 */
async function commitTerminal(
  host: EngineHost,
  run: RunState,
  status: RunStatus,
  records: StepRecord[],
): Promise<void> {
  const batch = await terminalBatch(host, run, status, records);
  const { ledger } = host.stores;
  if (!ledger.appendWithRun) {
    await appendRecords(host, run.run_id, batch);
    return await saveRun(host, run);
  }
  run.updated_at = nowIso();
  await ledger.appendWithRun(run, batch);
}

/** Completes the run; `withRecord` adds the `{completed, output}` record (complete_output plans). */
export async function completeRun(
  host: EngineHost,
  run: RunState,
  output: JsonObject,
  options: { nodeId?: string; withRecord: boolean; extra?: StepRecord[] },
): Promise<RunState> {
  const records = [...(options.extra ?? [])];
  if (options.withRecord) {
    records.push(completionRecord(run, options.nodeId ?? run.current_node ?? "runtime", output));
  }
  run.status = "completed";
  run.output = output;
  run.waiting = null;
  run.error = null;
  await commitTerminal(host, run, "completed", records);
  return run;
}

/** Fails the run; `nodeError` adds a failed record naming the error (no effect record exists for it). */
export async function failRun(
  host: EngineHost,
  run: RunState,
  error: string,
  options: { nodeError: boolean },
): Promise<RunState> {
  const records: StepRecord[] = [];
  if (options.nodeError) records.push(nodeFailureRecord(run, run.current_node ?? "runtime", error));
  run.status = "failed";
  run.error = error;
  run.waiting = null;
  await commitTerminal(host, run, "failed", records);
  return run;
}
