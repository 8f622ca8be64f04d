/** Reading runs: list, summary, input data and the history bundle. */
import type { App } from "../env.ts";
import { HttpError, runNotFound } from "../errors.ts";
import { historyBundle } from "../history_bundle.ts";
import { purgeDrafts } from "../purge_drafts.ts";
import { runInputData } from "../run_input.ts";
import { listRuns } from "../run_list.ts";
import { runSummary } from "../run_summary.ts";
import { loadRunForRead } from "../session_memory.ts";
import type { Gateway } from "../../gateway.ts";
import { RUN_STATUSES, type RunState, type RunStatus } from "../../runtime/types.ts";
import { errorResponses, gatewayRoute, jsonContent, JsonObjectSchema } from "../schemas/common.ts";
import { RunIdParam } from "../schemas/ledger.ts";
import {
  HistoryBundle,
  HistoryQuery,
  InputDataResponse,
  PurgeDraftsBody,
  RunList,
  RunListQuery,
  RunSummarySchema,
} from "../schemas/runs.ts";

const list = gatewayRoute({
  method: "get",
  path: "/runs",
  tags: ["runs"],
  summary: "List runs, newest update first (internal and draft runs hidden by default)",
  description: "Page with `cursor` = the previous response's `next_cursor` (null on the last page).",
  request: { query: RunListQuery },
  responses: { 200: jsonContent(RunList, "Run index items"), ...errorResponses(400) },
});

const get = gatewayRoute({
  method: "get",
  path: "/runs/{run_id}",
  tags: ["runs"],
  summary: "Run summary (status, wait, pause state, schedule, limits; never the full vars)",
  request: { params: RunIdParam },
  responses: { 200: jsonContent(RunSummarySchema, "The run"), ...errorResponses(404) },
});

const inputData = gatewayRoute({
  method: "get",
  path: "/runs/{run_id}/input_data",
  tags: ["runs"],
  summary: "The input the run was started with",
  request: { params: RunIdParam },
  responses: { 200: jsonContent(InputDataResponse, "Input data"), ...errorResponses(404) },
});

const history = gatewayRoute({
  method: "get",
  path: "/runs/{run_id}/history_bundle",
  tags: ["runs"],
  summary: "Run, snapshot, input, ledgers (with sub-runs) and session turns in one document",
  request: { params: RunIdParam, query: HistoryQuery },
  responses: { 200: jsonContent(HistoryBundle, "History bundle"), ...errorResponses(400, 404) },
});

export function registerRunReadRoutes(app: App, gw: Gateway): void {
  const { runs } = gw.stores;

  async function loadRun(runId: string): Promise<RunState> {
    return await loadRunForRead(runs, runId) ?? Promise.reject(runNotFound(runId));
  }

  app.openapi(list, async (c) => {
    const q = c.req.valid("query");
    const status = q.status?.trim() || undefined;
    if (status !== undefined && !(RUN_STATUSES as readonly string[]).includes(status)) {
      throw new HttpError(400, `Invalid status (expected: ${RUN_STATUSES.join("|")})`);
    }
    const page = await listRuns(gw.stores, {
      limit: q.limit,
      status: status as RunStatus | undefined,
      workflowId: q.workflow_id?.trim() || undefined,
      sessionId: q.session_id?.trim() || undefined,
      bundleId: q.bundle_id?.trim() || undefined,
      flowId: q.flow_id?.trim() || undefined,
      rootOnly: q.root_only,
      includeLedgerLen: q.include_ledger_len,
      includeMetrics: q.include_metrics,
      includeDrafts: q.include_drafts,
      cursor: q.cursor?.trim() || undefined,
    });
    return c.json(page as never, 200);
  });

  app.openapi(get, async (c) => c.json(runSummary(await loadRun(c.req.valid("param").run_id)) as never, 200));

  app.openapi(
    inputData,
    async (c) => c.json(runInputData(await loadRun(c.req.valid("param").run_id), gw.bundles) as never, 200),
  );

  app.openapi(history, async (c) => {
    const q = c.req.valid("query");
    const mode = q.ledger_mode?.trim() || "tail";
    if (mode !== "tail" && mode !== "full") throw new HttpError(400, "ledger_mode must be 'tail' or 'full'");
    const run = await loadRun(c.req.valid("param").run_id);
    const body = await historyBundle(gw.stores, run, {
      includeSubruns: q.include_subruns,
      includeSession: q.include_session,
      sessionTurnLimit: q.session_turn_limit,
      ledgerMaxItems: mode === "full" ? 0 : q.ledger_max_items,
    });
    return c.json(body as never, 200);
  });
}

const purge = gatewayRoute({
  method: "post",
  path: "/runs/purge_drafts",
  tags: ["runs"],
  summary: "Delete expired ephemeral draft_test run trees (dry run by default)",
  request: { body: { content: { "application/json": { schema: PurgeDraftsBody } }, required: true } },
  responses: { 200: jsonContent(JsonObjectSchema, "What was (or would be) deleted"), ...errorResponses(400) },
});

export function registerPurgeRoute(app: App, gw: Gateway): void {
  app.openapi(purge, async (c) => {
    const b = c.req.valid("json");
    const result = await purgeDrafts(gw.stores, gw.config, {
      dryRun: b.dry_run,
      limit: b.limit,
      sessionId: b.session_id ?? undefined,
      workflowId: b.workflow_id ?? undefined,
      runIds: b.run_ids ?? undefined,
      force: b.force,
      includeActive: b.include_active,
      deleteArtifacts: b.delete_artifacts,
      deleteWorkspaces: b.delete_workspaces,
    });
    return c.json(result as never, 200);
  });
}
