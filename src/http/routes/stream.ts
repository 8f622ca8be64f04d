/**
 * `GET /runs/{run_id}/ledger/stream`: the ledger as Server-Sent Events (see ledger_stream.ts);
 * `GET /runs/changes/stream`: when to re-read the run list (see run_changes_stream.ts).
 */
import { z } from "@hono/zod-openapi";
import type { App } from "../env.ts";
import { RequestValidationError, runNotFound } from "../errors.ts";
import { ledgerStream } from "../ledger_stream.ts";
import { LedgerHubs } from "../ledger_hub.ts";
import type { Gateway } from "../../gateway.ts";
import { errorResponses, gatewayRoute } from "../schemas/common.ts";
import { HeartbeatQuery, RunIdParam, StreamQuery } from "../schemas/ledger.ts";
import { runChangesStream } from "../run_changes_stream.ts";

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

const changes = gatewayRoute({
  method: "get",
  path: "/runs/changes/stream",
  tags: ["runs"],
  summary: "Learn when runs change, as Server-Sent Events (for live run lists)",
  description: [
    'Hints, not data: `event: runs` / `data: {"changed_at": "<iso>"}` once when the stream opens and',
    "after runs are saved (started, stepped, paused, ended; at most one frame per 250 ms); re-read",
    "`GET /runs` with your filters on each. `: keep-alive` comments every `heartbeat_s`. No cursor:",
    "a reconnect gets the opening frame, which covers whatever changed while disconnected.",
  ].join(" "),
  request: { query: HeartbeatQuery },
  responses: {
    200: { content: { "text/event-stream": { schema: z.string() } }, description: "The event stream" },
    ...errorResponses(429),
  },
});

const SSE_HEADERS = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-cache",
  "X-Accel-Buffering": "no",
};

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

/** The hubs of the apps served with a given shutdown signal (see `streamsStopped`). */
const hubsBySignal = new WeakMap<AbortSignal, LedgerHubs>();

/**
 * Once `shutdown` is aborted: resolves when the ledger streams' hubs of the app registered with it
 * have stopped, with no store read in flight (await it before closing the stores).
 */
export function streamsStopped(shutdown: AbortSignal): Promise<void> {
  return hubsBySignal.get(shutdown)?.close() ?? Promise.resolve();
}

export function registerStreamRoutes(app: App, gw: Gateway, shutdown?: AbortSignal): void {
  const hubs = new LedgerHubs(gw.stores, gw.metrics);
  if (shutdown) {
    hubsBySignal.set(shutdown, hubs);
    shutdown.addEventListener("abort", () => void hubs.close(), { once: true });
  }
  app.openapi(stream, async (c) => {
    const { run_id } = c.req.valid("param");
    const { after, heartbeat_s } = c.req.valid("query");
    const resumeFrom = lastEventId(c.req.header("last-event-id")) ?? after;
    // A run followed by a hub is known to exist (a deletion ends its streams): no status read per connect.
    if (!hubs.following(run_id) && (await gw.stores.runs.status(run_id)) === null) throw runNotFound(run_id);
    const body = ledgerStream({
      hubs,
      runId: run_id,
      after: resumeFrom,
      heartbeatMs: heartbeat_s * 1000,
      shutdown,
    });
    return c.body(body, 200, SSE_HEADERS);
  });

  app.openapi(changes, (c) => {
    const { heartbeat_s } = c.req.valid("query");
    const body = runChangesStream({ wake: gw.stores.wake, heartbeatMs: heartbeat_s * 1000, shutdown });
    return c.body(body, 200, SSE_HEADERS);
  });
}
