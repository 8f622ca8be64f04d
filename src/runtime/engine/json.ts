/** Small JSON helpers shared by the engine and the VisualFlow compiler (dotted paths). */
import type { Json, JsonObject } from "../types.ts";

export const isObject = (v: unknown): v is JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Reads a dotted path (`a.b.0.c`): object keys and numeric list indexes. Missing → undefined. */
export function getPath(root: Json | undefined, path: string): Json | undefined {
  if (path === "") return root;
  let cur: Json | undefined = root;
  for (const part of path.split(".")) {
    if (Array.isArray(cur) && /^-?\d+$/.test(part)) {
      const i = Number(part);
      cur = cur[i < 0 ? cur.length + i : i];
    } else if (isObject(cur)) {
      cur = cur[part];
    } else {
      return undefined;
    }
  }
  return cur;
}

/** Writes `value` at a dotted path, creating intermediate objects and overwriting non-objects. */
export function setPath(root: JsonObject, path: string, value: Json): void {
  const parts = path.split(".");
  let cur: JsonObject = root;
  for (const part of parts.slice(0, -1)) {
    const next = cur[part];
    if (!isObject(next)) cur[part] = {};
    cur = cur[part] as JsonObject;
  }
  cur[parts[parts.length - 1]] = value;
}

/** The object at `path`, created (or replaced when not an object) if needed. */
export function objectAt(root: JsonObject, path: string): JsonObject {
  const existing = getPath(root, path);
  if (isObject(existing)) return existing;
  const fresh: JsonObject = {};
  setPath(root, path, fresh);
  return fresh;
}
