/** Schemas of the ledger replay, batch and stream routes. */
import { z } from "@hono/zod-openapi";
import { intQuery } from "./common.ts";

export const RunIdParam = z.object({
  run_id: z.string().min(1).openapi({ param: { name: "run_id", in: "path" }, example: "3f0c…" }),
});

const StepRecordSchema = z.object({
  run_id: z.string(),
  step_id: z.string(),
  node_id: z.string(),
  status: z.enum(["started", "completed", "waiting", "failed"]),
  effect: z.object({
    type: z.string(),
    payload: z.record(z.string(), z.unknown()),
    result_key: z.string().nullable(),
  })
    .nullable(),
  result: z.unknown(),
  error: z.string().nullable(),
  started_at: z.string(),
  ended_at: z.string().nullable(),
  actor_id: z.string().nullable(),
  session_id: z.string().nullable(),
  attempt: z.number(),
  idempotency_key: z.string().nullable(),
  prev_hash: z.string().nullable(),
  record_hash: z.string().nullable(),
  signature: z.string().nullable(),
}).openapi("StepRecord");

export const LedgerPageSchema = z.object({
  items: z.array(StepRecordSchema),
  next_after: z.number().int().openapi({ description: "The `after` to send next (after + len(items))" }),
}).openapi("LedgerPage");

export const LedgerQuery = z.object({
  after: intQuery(0, 0, Number.MAX_SAFE_INTEGER).openapi({
    description: "Number of records already consumed (an offset, not an id)",
  }),
  limit: intQuery(200, 1, 2000),
});

export const LedgerBatchBody = z.object({
  runs: z.array(z.object({ run_id: z.string(), after: z.number().int().min(0).default(0) })).default([]),
  limit: z.number().int().min(1).max(2000).default(200),
}).openapi("LedgerBatchRequest");

export const LedgerBatchResponse = z.object({ runs: z.record(z.string(), LedgerPageSchema) });

const heartbeat = z.string().optional().transform((v, ctx) => {
  if (v === undefined || v === "") return 5;
  const n = Number(v);
  if (!Number.isFinite(n)) {
    ctx.addIssue({ code: "custom", message: "Input should be a valid number" });
    return z.NEVER;
  }
  if (n <= 0.1 || n > 60) {
    ctx.addIssue({ code: "custom", message: "heartbeat_s must be > 0.1 and <= 60" });
    return z.NEVER;
  }
  return n;
}).openapi({ type: "number", default: 5, exclusiveMinimum: 0.1, maximum: 60 });

export const StreamQuery = z.object({
  after: intQuery(0, 0, Number.MAX_SAFE_INTEGER).openapi({
    description: "Resume cursor; the `Last-Event-ID` header, when present, wins over it",
  }),
  heartbeat_s: heartbeat,
});

export const HeartbeatQuery = z.object({ heartbeat_s: heartbeat });
