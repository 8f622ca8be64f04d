/**
 * Submit-time checks of a command (an improvement on upstream, which accepted anything and only
 * logged failures later): each failure is a 400 naming the offending field.
 */
import { COMMAND_TYPES, type CommandType, type Json, type JsonObject } from "../runtime/types.ts";
import { HttpError } from "./errors.ts";
import { EVENT_SCOPES } from "../runtime/engine/events.ts";

const TYPE_LIST = COMMAND_TYPES.join("|");
const INTERVAL = /^\s*\d+(\.\d+)?\s*(ms|s|m|h|d)\s*$/i;

const bad = (detail: string) => new HttpError(400, detail);
const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === "object" && !Array.isArray(v);

export function parseCommandType(raw: string): CommandType {
  const type = raw.trim();
  if (!(COMMAND_TYPES as readonly string[]).includes(type)) throw bad(`type must be one of ${TYPE_LIST}`);
  return type as CommandType;
}

function optionalString(payload: JsonObject, key: string): void {
  const v = payload[key];
  if (v !== undefined && v !== null && typeof v !== "string") throw bad(`payload.${key} must be a string`);
}

function optionalObject(payload: JsonObject, key: string): void {
  const v = payload[key];
  if (v !== undefined && v !== null && !isObject(v)) throw bad(`payload.${key} must be a JSON object`);
}

function optionalBool(payload: JsonObject, key: string): void {
  const v = payload[key];
  if (v !== undefined && v !== null && typeof v !== "boolean") throw bad(`payload.${key} must be a boolean`);
}

/** Returns the payload (absent → {}), or throws a 400 naming the field that is wrong (the schema made it an object). */
export function validateCommandPayload(
  type: CommandType,
  raw: Record<string, unknown> | null | undefined,
): JsonObject {
  const payload = (raw ?? {}) as JsonObject;
  switch (type) {
    case "pause":
    case "cancel":
      optionalString(payload, "reason");
      break;
    case "resume":
      optionalObject(payload, "payload");
      optionalString(payload, "wait_key");
      optionalString(payload, "waitKey");
      break;
    case "emit_event": {
      const name: Json | undefined = payload.name;
      if (typeof name !== "string" || !name.trim()) throw bad("payload.name must be a non-empty string");
      const scope = payload.scope;
      if (
        scope !== undefined && scope !== null &&
        (typeof scope !== "string" || !(EVENT_SCOPES as readonly string[]).includes(scope))
      ) {
        throw bad(`payload.scope must be one of ${EVENT_SCOPES.join("|")}`);
      }
      for (const key of ["session_id", "workflow_id", "run_id", "event_id", "emitted_at"]) {
        optionalString(payload, key);
      }
      break;
    }
    case "update_schedule": {
      const interval = payload.interval ?? payload.schedule;
      const field = payload.interval === undefined && payload.schedule !== undefined
        ? "schedule"
        : "interval";
      if (typeof interval !== "string" || !INTERVAL.test(interval) || parseFloat(interval) <= 0) {
        throw bad(`payload.${field} must be a positive duration like '30s', '15m', '1h', '500ms' or '1d'`);
      }
      optionalBool(payload, "apply_immediately");
      break;
    }
    case "compact_memory": {
      optionalString(payload, "target_run_id");
      optionalString(payload, "focus");
      const mode = payload.compression_mode;
      if (mode !== undefined && mode !== null && !["light", "standard", "heavy"].includes(String(mode))) {
        throw bad("payload.compression_mode must be one of light|standard|heavy");
      }
      const keep = payload.preserve_recent;
      if (keep !== undefined && keep !== null && !(Number.isInteger(keep) && (keep as number) >= 0)) {
        throw bad("payload.preserve_recent must be a non-negative integer");
      }
      break;
    }
  }
  return payload;
}
