/** pause / unpause / cancel of one run (runtime-model.md §4.1); the runner applies them tree-wide. */
import type { RunState } from "../types.ts";
import { isTerminal } from "../types.ts";
import { nowIso } from "../../util/time.ts";
import type { EngineHost } from "./host.ts";
import { controlOf, isPaused } from "./run_vars.ts";
import { appendTerminalRecords, loadRun, saveRun } from "./transitions.ts";
import { isPauseWait, pauseWait } from "./waits.ts";

export async function pauseRun(host: EngineHost, runId: string, reason?: string | null): Promise<RunState> {
  const run = await loadRun(host, runId);
  if (isTerminal(run.status) || isPaused(run)) return run;
  const control = controlOf(run);
  control.paused = true;
  control.paused_at = nowIso();
  if (reason) control.pause_reason = reason;
  if (run.status === "running") {
    run.status = "waiting";
    run.waiting = pauseWait(run.run_id, run.current_node);
  }
  await saveRun(host, run);
  return run;
}

export async function unpauseRun(host: EngineHost, runId: string): Promise<RunState> {
  const run = await loadRun(host, runId);
  if (isTerminal(run.status)) return run;
  const control = controlOf(run);
  delete control.paused;
  delete control.pause_reason;
  control.resumed_at = nowIso();
  if (run.status === "waiting" && isPauseWait(run.run_id, run.waiting)) {
    run.status = "running";
    run.current_node = run.waiting?.resume_to_node ?? run.current_node;
    run.waiting = null;
  }
  await saveRun(host, run);
  return run;
}

export async function cancelRun(host: EngineHost, runId: string, reason?: string | null): Promise<RunState> {
  const run = await loadRun(host, runId);
  if (isTerminal(run.status)) return run;
  run.status = "cancelled";
  run.error = reason || "Cancelled";
  run.waiting = null;
  const control = controlOf(run);
  delete control.paused;
  delete control.pause_reason;
  await appendTerminalRecords(host, run, "cancelled", []);
  await saveRun(host, run);
  return run;
}
