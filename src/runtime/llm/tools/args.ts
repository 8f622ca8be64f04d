/** Typed access to tool-call arguments with clear errors (models often send numbers/booleans as strings). */
import type { Json, JsonObject } from "../../types.ts";
import { ToolError } from "./types.ts";

export function str(args: JsonObject, name: string, fallback?: string): string {
  const value = args[name];
  if (value === undefined || value === null) {
    if (fallback !== undefined) return fallback;
    throw new ToolError(`Missing required argument "${name}"`);
  }
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new ToolError(`Argument "${name}" must be a string`);
}

export function int(args: JsonObject, name: string, fallback: number): number {
  const value = args[name];
  if (value === undefined || value === null || value === "") return fallback;
  const n = typeof value === "number" ? value : Number(String(value).trim());
  if (!Number.isInteger(n)) throw new ToolError(`Argument "${name}" must be an integer`);
  return n;
}

export function bool(args: JsonObject, name: string, fallback: boolean): boolean {
  const value = args[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value === "boolean") return value;
  const text = String(value).trim().toLowerCase();
  if (["true", "1", "yes", "y", "on"].includes(text)) return true;
  if (["false", "0", "no", "n", "off"].includes(text)) return false;
  throw new ToolError(`Argument "${name}" must be a boolean`);
}

/** A list argument given as an array, a JSON array string, or a comma/newline separated string. */
export function list(args: JsonObject, name: string, fallback: string[]): string[] {
  const value: Json | undefined = args[name];
  if (value === undefined || value === null) return fallback;
  if (Array.isArray(value)) return value.map((v) => String(v));
  const text = String(value).trim();
  if (text.startsWith("[")) {
    try {
      const parsed = JSON.parse(text);
      if (Array.isArray(parsed)) return parsed.map((v) => String(v));
    } catch {
      // fall through to splitting
    }
  }
  return text.split(/[,\n]/).map((s) => s.trim()).filter(Boolean);
}

/** Case-insensitive glob (`*`, `?`, `|` between alternatives) as a RegExp over a file name. */
export function globRegExp(pattern: string): RegExp {
  const parts = pattern.split("|").map((p) => p.trim()).filter(Boolean);
  const body = (parts.length ? parts : ["*"]).map((p) =>
    p.replace(/[.+^${}()[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")
  ).join("|");
  return new RegExp(`^(?:${body})$`, "i");
}
