/** `GET /api/gateway/audit/tail` — admin read-back of the audit log (admin-only by the route table). */
import { z } from "@hono/zod-openapi";
import type { App } from "../http/env.ts";
import { errorResponses, gatewayRoute, intQuery, jsonContent } from "../http/schemas/common.ts";
import type { AuditLog } from "./audit.ts";

const tail = gatewayRoute({
  method: "get",
  path: "/audit/tail",
  tags: ["audit"],
  summary: "The newest lines of the audit log (admin only)",
  description: "Whole JSONL lines from the end of `<data-dir>/audit_log.jsonl`, at most `max_bytes` bytes.",
  request: { query: z.object({ max_bytes: intQuery(80_000, 1024, 400_000) }) },
  responses: {
    200: jsonContent(
      z.object({ ok: z.literal(true), bytes: z.number().int(), truncated: z.boolean(), content: z.string() }),
      "The tail of the audit log",
    ),
    ...errorResponses(403),
  },
});

export function registerAuditRoutes(app: App, audit: AuditLog): void {
  app.openapi(tail, async (c) => c.json(await audit.tail(c.req.valid("query").max_bytes), 200));
}
