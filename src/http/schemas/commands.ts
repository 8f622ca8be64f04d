/** Schemas of the durable command inbox routes. */
import { z } from "@hono/zod-openapi";
import { COMMAND_TYPES } from "../../runtime/types.ts";

export const CommandBody = z.object({
  command_id: z.string().openapi({ description: "Client idempotency key (UUID recommended)" }),
  run_id: z.string().openapi({ description: "Target run, or the session id for emit_event" }),
  type: z.string().openapi({ enum: [...COMMAND_TYPES] }),
  // a non-object payload is a wrong field type: upstream's 422 (`dict_type`), before any other check
  payload: z.record(z.string(), z.unknown()).nullish(),
  ts: z.string().nullish(),
  client_id: z.string().nullish(),
}).openapi("CommandRequest");

export const CommandAccepted = z.object({
  accepted: z.boolean(),
  duplicate: z.boolean(),
  seq: z.number().int().openapi({ description: "Global, strictly increasing, 1-based inbox sequence" }),
}).openapi("CommandAccepted");

export const CommandIdParam = z.object({
  command_id: z.string().min(1).openapi({ param: { name: "command_id", in: "path" } }),
});

export const CommandStatus = z.object({
  command_id: z.string(),
  seq: z.number().int(),
  run_id: z.string(),
  type: z.string(),
  payload: z.record(z.string(), z.unknown()),
  ts: z.string(),
  client_id: z.string().nullable(),
  status: z.enum(["pending", "applied", "failed"]),
  error: z.string().nullable(),
  applied_at: z.string().nullable(),
}).openapi("CommandStatus");
