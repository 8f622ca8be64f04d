/** `GET /runs`: the filtered, newest-first run index with optional ledger length and metrics. */
import type { JsonObject, RunState, RunStatus, StepRecord } from "../runtime/types.ts";
import type { Stores } from "../store/types.ts";
import { isDraftRun, runListItem } from "./run_summary.ts";

export interface RunListOptions {
  limit: number;
  status?: RunStatus;
  workflowId?: string;
  sessionId?: string;
  /** Workflow ids `<bundle>@<version>:<flow>`: these match on the bundle and/or flow part. */
  bundleId?: string;
  flowId?: string;
  rootOnly: boolean;
  includeLedgerLen: boolean;
  includeMetrics: boolean;
  includeDrafts: boolean;
  /** `next_cursor` of a previous page. */
  cursor?: string;
}

function visible(run: RunState, o: RunListOptions): boolean {
  if (!o.workflowId && run.workflow_id.startsWith("__")) return false;
  if (!o.includeDrafts && isDraftRun(run)) return false;
  if (o.rootOnly && run.parent_run_id !== null) return false;
  if (o.bundleId && !run.workflow_id.startsWith(`${o.bundleId}@`)) return false;
  if (o.flowId && !run.workflow_id.endsWith(`:${o.flowId}`)) return false;
  return true;
}

async function metrics(stores: Stores, runId: string): Promise<JsonObject> {
  let steps = 0, llm = 0, tools = 0, tokens = 0, sawTokens = false;
  let after = 0;
  for (;;) {
    const page = await stores.ledger.read(runId, after, 2000);
    for (const r of page.items as StepRecord[]) {
      if (r.status !== "completed") continue;
      steps++;
      if (r.effect?.type === "llm_call") llm++;
      if (r.effect?.type === "tool_calls") tools++;
      const usage = (r.result as { usage?: { total_tokens?: unknown } } | null)?.usage;
      if (usage && typeof usage.total_tokens === "number") {
        tokens += usage.total_tokens;
        sawTokens = true;
      }
    }
    if (page.items.length < 2000) break;
    after = page.next_after;
  }
  return { steps, llm_calls: llm, tool_calls: tools, tokens_total: sawTokens ? tokens : null };
}

/**
 * One page of visible runs. Store pages are requested for exactly the number of items still
 * missing, so the last store page ends at the last item returned and its cursor resumes there.
 */
export async function listRuns(
  stores: Stores,
  o: RunListOptions,
): Promise<{ items: JsonObject[]; next_cursor: string | null }> {
  const picked: RunState[] = [];
  let cursor: string | null = o.cursor ?? null;
  do {
    const page = await stores.runs.list({
      status: o.status,
      workflowId: o.workflowId,
      sessionId: o.sessionId,
      limit: o.limit - picked.length,
      cursor,
    });
    for (const run of page.items) if (visible(run, o)) picked.push(run);
    cursor = page.next_cursor;
  } while (cursor && picked.length < o.limit);

  const items = await Promise.all(picked.map(async (run) => {
    const item = runListItem(run);
    if (o.includeLedgerLen) item.ledger_len = await stores.ledger.count(run.run_id);
    if (o.includeMetrics) Object.assign(item, await metrics(stores, run.run_id));
    return item;
  }));
  return { items, next_cursor: cursor };
}
