/** The durable command inbox: append (idempotent by command_id) and read back one command's outcome. */
import type { App } from "../env.ts";
import { HttpError, runNotFound } from "../errors.ts";
import { parseCommandType, validateCommandPayload } from "../command_validation.ts";
import type { Gateway } from "../../gateway.ts";
import { nowIso, parseIso } from "../../util/time.ts";
import { type NewCommand, RUNNER_CONSUMER } from "../../store/types.ts";

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

/** How long a reading of the inbox depth is trusted while it is below the limit. */
const DEPTH_TTL_MS = 100;

/**
 * Backpressure: 503 + Retry-After while more than `maxInboxDepth` commands wait for the runner. The
 * store is read at most every DEPTH_TTL_MS while the inbox is below the limit (this process's own
 * appends count at once; other writers' within that time), and always before refusing.
 */
class InboxDepth {
  #lastSeq = 0;
  #cursor = 0;
  #readAt = -Infinity;

  constructor(private readonly gw: Gateway) {}

  async check(): Promise<void> {
    const max = this.gw.config.maxInboxDepth;
    if (max <= 0) return;
    if (this.#depth() >= max || performance.now() - this.#readAt > DEPTH_TTL_MS) await this.#read();
    const depth = this.#depth();
    if (depth >= max) {
      throw new HttpError(
        503,
        `Cannot accept the command: ${depth} commands are waiting for the runner (limit ${max}); retry later`,
        { "Retry-After": String(INBOX_RETRY_AFTER_S) },
      );
    }
  }

  appended(seq: number): void {
    this.#lastSeq = Math.max(this.#lastSeq, seq);
  }

  #depth(): number {
    return this.#lastSeq - this.#cursor;
  }

  async #read(): Promise<void> {
    const { commands } = this.gw.stores;
    const [lastSeq, cursor] = await Promise.all([commands.lastSeq(), commands.loadCursor(RUNNER_CONSUMER)]);
    this.#lastSeq = lastSeq;
    this.#cursor = cursor;
    this.#readAt = performance.now();
  }
}

export function registerCommandRoutes(app: App, gw: Gateway): void {
  const { commands, runs } = gw.stores;

  const depth = new InboxDepth(gw);
  app.openapi(append, async (c) => {
    const body = c.req.valid("json");
    const type = parseCommandType(body.type);
    const commandId = body.command_id.trim();
    if (!commandId) throw new HttpError(400, "command_id must be a non-empty string");
    const runId = body.run_id.trim();
    if (!runId) throw new HttpError(400, "Failed to append command: run_id must be a non-empty string");

    let command: NewCommand;
    try {
      await depth.check();
      const payload = validateCommandPayload(type, body.payload);
      const given = body.ts?.trim();
      if (given && Number.isNaN(parseIso(given))) {
        throw new HttpError(400, "ts must be an ISO-8601 timestamp");
      }
      const ts = given || nowIso();
      if (type !== "emit_event" && !(await runs.load(runId))) throw runNotFound(runId);
      command = {
        command_id: commandId,
        run_id: runId,
        type,
        payload,
        ts,
        client_id: body.client_id ?? null,
      };
    } catch (err) {
      // A retried command stays idempotent whatever the run, the payload or the inbox became.
      const seen = await commands.get(commandId);
      if (seen) return c.json({ accepted: false, duplicate: true, seq: seen.seq }, 200);
      throw err;
    }
    const result = await commands.append(command); // a duplicate answers its original seq
    if (result.accepted) {
      depth.appended(result.seq);
      gw.runner?.kick();
    }
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
