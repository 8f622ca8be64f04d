/** `GET /runs/{run_id}/ledger/stream`: the ledger as Server-Sent Events (see ledger_stream.ts). */
import { z } from "@hono/zod-openapi";
import type { App } from "../env.ts";
import { RequestValidationError, runNotFound } from "../errors.ts";
import { ledgerStream } from "../ledger_stream.ts";
import type { Gateway } from "../../gateway.ts";
import { errorResponses, gatewayRoute } from "../schemas/common.ts";
import { RunIdParam, StreamQuery } from "../schemas/ledger.ts";

const stream = gatewayRoute({
  method: "get",
  path: "/runs/{run_id}/ledger/stream",
  tags: ["ledger"],
  summary: "Follow a run's ledger as Server-Sent Events",
  description: [
    'Frames: `id: n` / `event: step` / `data: {"cursor": n, "record": {…}}` where n is the 1-based',
    "position (the `after` to resume from); `: keep-alive` comments every `heartbeat_s` when idle;",
    '`event: done` / `data: {"run_id", "cursor", "status": "terminal"}` then close once the run is',
    "terminal and caught up. Resume with `?after=n` or the `Last-Event-ID` header (the header wins).",
  ].join(" "),
  request: {
    params: RunIdParam,
    query: StreamQuery,
    headers: z.object({ "last-event-id": z.string().optional() }),
  },
  responses: {
    200: { content: { "text/event-stream": { schema: z.string() } }, description: "The event stream" },
    ...errorResponses(404, 429),
  },
});

function lastEventId(value: string | undefined): number | null {
  if (value === undefined || value.trim() === "") return null;
  if (!/^\d+$/.test(value.trim())) {
    throw new RequestValidationError([{
      type: "int_parsing",
      loc: ["header", "last-event-id"],
      msg: "Last-Event-ID must be a non-negative integer cursor",
      input: value,
    }]);
  }
  return Number(value.trim());
}

export function registerStreamRoutes(app: App, gw: Gateway, shutdown?: AbortSignal): void {
  app.openapi(stream, async (c) => {
    const { run_id } = c.req.valid("param");
    const { after, heartbeat_s } = c.req.valid("query");
    const resumeFrom = lastEventId(c.req.header("last-event-id")) ?? after;
    if (!(await gw.stores.runs.load(run_id))) throw runNotFound(run_id);
    const body = ledgerStream({
      stores: gw.stores,
      runId: run_id,
      after: resumeFrom,
      heartbeatMs: heartbeat_s * 1000,
      shutdown,
    });
    return c.body(body, 200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache",
      "X-Accel-Buffering": "no",
    });
  });
}
