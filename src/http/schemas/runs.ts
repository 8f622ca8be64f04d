/** Schemas of the run routes (start, schedule, list, summary, input data, history bundle). */
import { z } from "@hono/zod-openapi";
import { boolQuery, intQuery, JsonObjectSchema } from "./common.ts";

export const StartRunBody = z.object({
  registry_scope: z.string().nullish(),
  bundle_id: z.string().nullish(),
  bundle_version: z.string().nullish(),
  flow_id: z.string().nullish(),
  input_data: JsonObjectSchema.nullish(),
  thinking: z.union([z.boolean(), z.string()]).nullish(),
  run_lifecycle: JsonObjectSchema.nullish(),
  session_id: z.string().nullish(),
  idempotency_key: z.string().nullish().openapi({
    description: "Client key: a retried start with the same key returns the same run_id " +
      "(also accepted as the Idempotency-Key header)",
  }),
}).openapi("StartRunRequest");

export const StartRunHeaders = z.object({ "idempotency-key": z.string().optional() });

export const RunIdResponse = z.object({ run_id: z.string() }).openapi("RunId");

export const ScheduleRunBody = z.object({
  bundle_id: z.string().nullish(),
  flow_id: z.string().nullish(),
  bundle_version: z.string().nullish(),
  registry_scope: z.string().nullish(),
  input_data: JsonObjectSchema.nullish(),
  start_at: z.string().nullish().openapi({ description: "ISO-8601 time or 'now' (default now)" }),
  interval: z.string().nullish().openapi({ example: "15m" }),
  repeat_count: z.number().int().nullish(),
  repeat_until: z.string().nullish(),
  share_context: z.boolean().nullish().openapi({ default: true }),
  session_id: z.string().nullish(),
  cron: z.string().nullish().openapi({
    description: "Cron expression instead of interval",
    example: "0 9 * * 1-5",
  }),
  timezone: z.string().nullish().openapi({
    description: "IANA time zone of `cron`",
    example: "Europe/Paris",
  }),
}).openapi("ScheduleRunRequest");

export const RunSummarySchema = z.object({
  run_id: z.string(),
  workflow_id: z.string(),
  status: z.enum(["running", "waiting", "completed", "failed", "cancelled"]),
  current_node: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  actor_id: z.string().nullable(),
  session_id: z.string().nullable(),
  parent_run_id: z.string().nullable(),
  error: z.string().nullable(),
  paused: z.boolean(),
  pause_reason: z.string().nullable(),
  paused_at: z.string().nullable(),
  resumed_at: z.string().nullable(),
  waiting: JsonObjectSchema.nullable(),
  is_scheduled: z.boolean(),
  schedule: JsonObjectSchema.nullable(),
  limits: JsonObjectSchema.nullable(),
  run_lifecycle: JsonObjectSchema.nullable(),
  is_draft: z.boolean(),
}).passthrough().openapi("RunSummary");

export const RunListQuery = z.object({
  limit: intQuery(50, 1, 500),
  status: z.string().optional().openapi({ enum: ["running", "waiting", "completed", "failed", "cancelled"] }),
  workflow_id: z.string().optional(),
  session_id: z.string().optional(),
  bundle_id: z.string().optional().openapi({ description: "Only runs of this bundle (any version)" }),
  flow_id: z.string().optional().openapi({ description: "Only runs of this flow (entrypoint) id" }),
  root_only: boolQuery(false),
  include_ledger_len: boolQuery(true),
  include_metrics: boolQuery(false),
  include_drafts: boolQuery(false),
  cursor: z.string().optional(),
});

export const RunList = z.object({ items: z.array(RunSummarySchema), next_cursor: z.string().nullable() })
  .openapi("RunList");

export const InputDataResponse = z.object({
  run_id: z.string(),
  workflow_id: z.string(),
  bundle_id: z.string().nullable(),
  bundle_version: z.string().optional(),
  flow_id: z.string().nullable(),
  pin_ids: z.array(z.string()),
  input_data: JsonObjectSchema,
  workspace: JsonObjectSchema,
}).openapi("RunInputData");

export const HistoryQuery = z.object({
  include_subruns: boolQuery(true),
  include_session: boolQuery(false),
  session_turn_limit: intQuery(200, 1, 500),
  ledger_mode: z.string().optional().openapi({ enum: ["tail", "full"], default: "tail" }),
  ledger_max_items: intQuery(2000, 0, 20000).openapi({ description: "0 = full ledger" }),
});

export const HistoryBundle = z.object({
  version: z.literal(1),
  generated_at: z.string(),
  root_run_id: z.string(),
  run: JsonObjectSchema,
  workflow_snapshot: JsonObjectSchema.nullable(),
  input_data: JsonObjectSchema,
  ledgers: z.record(z.string(), JsonObjectSchema),
  timeline: z.array(JsonObjectSchema),
  session: JsonObjectSchema.nullable(),
}).openapi("HistoryBundle");

export const PurgeDraftsBody = z.strictObject({
  dry_run: z.boolean().default(true),
  limit: z.number().int().min(1).max(5000).default(200),
  session_id: z.string().nullish(),
  workflow_id: z.string().nullish(),
  run_ids: z.array(z.string()).nullish(),
  force: z.boolean().default(false),
  include_active: z.boolean().default(false),
  delete_artifacts: z.boolean().default(true),
  delete_workspaces: z.boolean().default(true),
}).openapi("PurgeDraftsRequest");
