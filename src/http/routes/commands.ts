/** The durable command inbox: append (idempotent by command_id) and read back one command's outcome. */
import type { App } from "../env.ts";
import { HttpError, runNotFound } from "../errors.ts";
import { parseCommandType, validateCommandPayload } from "../command_validation.ts";
import type { Gateway } from "../../gateway.ts";
import { nowIso, parseIso } from "../../util/time.ts";
import { RUNNER_CONSUMER } from "../../store/types.ts";

const INBOX_RETRY_AFTER_S = 5;
import { errorResponses, gatewayRoute, jsonContent } from "../schemas/common.ts";
import { CommandAccepted, CommandBody, CommandIdParam, CommandStatus } from "../schemas/commands.ts";

const append = gatewayRoute({
  method: "post",
  path: "/commands",
  tags: ["commands"],
  summary: "Append a durable command (pause, resume, cancel, emit_event, update_schedule, compact_memory)",
  description: [
    "Idempotent by `command_id`: a repeated id returns `{accepted:false, duplicate:true, seq:<original>}`.",
    "Type and payload are validated at submit time (400 naming the field); an unknown run is 404, except",
    "for emit_event whose run_id may be a session id. Acceptance is not execution: read the outcome",
    "with GET /commands/{command_id}.",
  ].join(" "),
  request: { body: { content: { "application/json": { schema: CommandBody } }, required: true } },
  responses: {
    200: jsonContent(CommandAccepted, "Accepted or duplicate"),
    ...errorResponses(400, 404, 413, 503),
  },
});

const status = gatewayRoute({
  method: "get",
  path: "/commands/{command_id}",
  tags: ["commands"],
  summary: "A command and what the runner did with it (pending, applied or failed)",
  request: { params: CommandIdParam },
  responses: { 200: jsonContent(CommandStatus, "The command and its outcome"), ...errorResponses(404) },
});

/** Backpressure: 503 + Retry-After while more than `maxInboxDepth` commands wait for the runner. */
async function checkInboxDepth(gw: Gateway): Promise<void> {
  const max = gw.config.maxInboxDepth;
  if (max <= 0) return;
  const { commands } = gw.stores;
  const depth = (await commands.lastSeq()) - (await commands.loadCursor(RUNNER_CONSUMER));
  if (depth >= max) {
    throw new HttpError(
      503,
      `Cannot accept the command: ${depth} commands are waiting for the runner (limit ${max}); retry later`,
      { "Retry-After": String(INBOX_RETRY_AFTER_S) },
    );
  }
}

export function registerCommandRoutes(app: App, gw: Gateway): void {
  const { commands, runs } = gw.stores;

  app.openapi(append, async (c) => {
    const body = c.req.valid("json");
    const type = parseCommandType(body.type);
    const commandId = body.command_id.trim();
    if (!commandId) throw new HttpError(400, "command_id must be a non-empty string");
    const runId = body.run_id.trim();
    if (!runId) throw new HttpError(400, "Failed to append command: run_id must be a non-empty string");

    // Duplicates first: a retried command stays idempotent whatever the run or payload became.
    const seen = await commands.get(commandId);
    if (seen) return c.json({ accepted: false, duplicate: true, seq: seen.seq }, 200);

    await checkInboxDepth(gw);
    const payload = validateCommandPayload(type, body.payload);
    const ts = body.ts?.trim() || nowIso();
    if (Number.isNaN(parseIso(ts))) throw new HttpError(400, "ts must be an ISO-8601 timestamp");
    if (type !== "emit_event" && !(await runs.load(runId))) throw runNotFound(runId);
    const result = await commands.append({
      command_id: commandId,
      run_id: runId,
      type,
      payload,
      ts,
      client_id: body.client_id ?? null,
    });
    if (result.accepted) gw.runner?.kick();
    return c.json(result, 200);
  });

  app.openapi(status, async (c) => {
    const { command_id } = c.req.valid("param");
    const command = await commands.get(command_id);
    if (!command) throw new HttpError(404, `Command '${command_id}' not found`);
    const outcome = await commands.getOutcome(command_id);
    return c.json({
      ...command,
      status: outcome?.status ?? "pending" as const,
      error: outcome?.error ?? null,
      applied_at: outcome?.applied_at ?? null,
    }, 200);
  });
}
