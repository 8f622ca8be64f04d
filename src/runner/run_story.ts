/**
 * Log lines that tell a run's story as the runner advances it: schedule fired, waiting (on what),
 * completed, failed (why); `run started` and `run cancelled` come from the runtime. Each carries `run_id` and `workflow_id`; debug adds detail.
 */
import type { RunState } from "../runtime/types.ts";
import type { Logger } from "../util/log.ts";

const runFields = (run: RunState) => ({ run_id: run.run_id, workflow_id: run.workflow_id });

/** Before a tick: a schedule wrapper whose timer is due fires now. */
export function logTickStart(log: Logger, before: RunState): void {
  if (before.workflow_id.startsWith("scheduled:") && before.waiting?.reason === "until") {
    log.info("schedule fired", { ...runFields(before), due: before.waiting.until });
  }
  log.debug("tick", { ...runFields(before), status: before.status, node: before.current_node });
}

/** After a tick: one line when the run reached a new wait or ended. */
export function logTickEnd(log: Logger, before: Pick<RunState, "status" | "waiting">, after: RunState): void {
  const fields = runFields(after);
  switch (after.status) {
    case "waiting": {
      const w = after.waiting;
      const same = before.status === "waiting" && before.waiting?.reason === w?.reason &&
        before.waiting?.wait_key === w?.wait_key && before.waiting?.until === w?.until;
      if (same || !w) return;
      log.info("run waiting", {
        ...fields,
        node: after.current_node,
        reason: w.reason,
        wait_key: w.wait_key ?? undefined,
        until: w.until ?? undefined,
        prompt: w.prompt ?? undefined,
        choices: w.choices ?? undefined,
      });
      return;
    }
    case "completed":
      log.info("run completed", { ...fields, node: after.current_node });
      log.debug("run output", { ...fields, output: after.output });
      return;
    case "failed":
      log.warn("run failed", { ...fields, node: after.current_node, error: after.error });
      return;
    case "running":
      log.debug("tick ended with the run still running", { ...fields, node: after.current_node });
  }
}
