/** Small readers for command payload fields (camelCase aliases accepted where upstream does). */
import type { JsonObject } from "../runtime/types.ts";
import { CommandError } from "./command_errors.ts";

export function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** First non-empty string among the named fields, or null. Non-string values are an error. */
export function optionalString(payload: JsonObject, ...names: string[]): string | null {
  for (const name of names) {
    const value = payload[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== "string") throw new CommandError(`payload.${name} must be a string`);
    if (value.trim() !== "") return value.trim();
  }
  return null;
}

export function optionalBool(payload: JsonObject, name: string, fallback: boolean): boolean {
  const value = payload[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && ["true", "false", "1", "0"].includes(value.toLowerCase())) {
    return value.toLowerCase() === "true" || value === "1";
  }
  throw new CommandError(`payload.${name} must be a boolean`);
}
