/** Ledger replay: one run from a cursor, or many runs in one request. */
import type { App } from "../env.ts";
import { runNotFound } from "../errors.ts";
import type { Gateway } from "../../gateway.ts";
import type { LedgerPage } from "../../store/types.ts";
import { errorResponses, gatewayRoute, jsonContent } from "../schemas/common.ts";
import {
  LedgerBatchBody,
  LedgerBatchResponse,
  LedgerPageSchema,
  LedgerQuery,
  RunIdParam,
} from "../schemas/ledger.ts";

const replay = gatewayRoute({
  method: "get",
  path: "/runs/{run_id}/ledger",
  tags: ["ledger"],
  summary: "Replay a run's ledger from a cursor",
  description: "`after` = records already consumed; the response's `next_after` is the next `after`.",
  request: { params: RunIdParam, query: LedgerQuery },
  responses: { 200: jsonContent(LedgerPageSchema, "A page of step records"), ...errorResponses(404) },
});

const batch = gatewayRoute({
  method: "post",
  path: "/runs/ledger/batch",
  tags: ["ledger"],
  summary: "Replay several ledgers at once (unknown runs are omitted)",
  request: { body: { content: { "application/json": { schema: LedgerBatchBody } }, required: true } },
  responses: { 200: jsonContent(LedgerBatchResponse, "One page per known run"), ...errorResponses(400) },
});

export function registerLedgerRoutes(app: App, gw: Gateway): void {
  const { runs, ledger } = gw.stores;

  app.openapi(replay, async (c) => {
    const { run_id } = c.req.valid("param");
    const { after, limit } = c.req.valid("query");
    if (!(await runs.load(run_id))) throw runNotFound(run_id);
    return c.json(await ledger.read(run_id, after, limit), 200);
  });

  app.openapi(batch, async (c) => {
    const body = c.req.valid("json");
    const out: Record<string, LedgerPage> = {};
    for (const { run_id, after } of body.runs) {
      if (!run_id.trim() || out[run_id]) continue;
      const run = await runs.load(run_id).catch(() => null);
      if (run) out[run_id] = await ledger.read(run_id, after, body.limit);
    }
    return c.json({ runs: out }, 200);
  });
}
