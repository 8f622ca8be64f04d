/** Data nodes: arrays, objects, JSON parsing/printing, datetime. */
import type { Json, JsonObject } from "../types.ts";
import { nowIso } from "../../util/time.ts";
import { getPath, isObject } from "../engine/json.ts";
import type { PureFn } from "./pins.ts";
import { parseJsonText } from "./json_text.ts";
import { pyStr, truthy } from "./py.ts";

const asArray = (
  v: Json | undefined,
): Json[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);

/** parse_json: objects/arrays pass through; text is read leniently; scalars wrap as `{value}` unless `wrap_scalar` is false. */
function parseJson(i: JsonObject): Json {
  const raw = i.text;
  let parsed: Json;
  if (Array.isArray(raw) || isObject(raw)) parsed = raw;
  else if (raw === undefined || raw === null) {
    throw new Error("parse_json requires a non-empty 'text' input.");
  } else parsed = parseJsonText(pyStr(raw));
  const wrap = i.wrap_scalar === undefined ? true : truthy(i.wrap_scalar);
  return wrap && !Array.isArray(parsed) && !isObject(parsed) ? { value: parsed } : parsed;
}

/** Python `json.dumps` default spacing (`, ` and `: `). */
function pyDumps(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(pyDumps).join(", ")}]`;
  if (isObject(v)) {
    return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${pyDumps(x)}`).join(", ")}}`;
  }
  return JSON.stringify(v);
}

/** Upstream's index coercion: booleans and unreadable values are 0, floats truncate. */
function elementIndex(v: Json | undefined): number {
  if (typeof v === "number") return Math.trunc(v);
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v.trim());
    return Number.isNaN(n) ? 0 : Math.trunc(n);
  }
  return 0;
}

function getElement(i: JsonObject): JsonObject {
  const arr = Array.isArray(i.array) ? i.array : [];
  const raw = elementIndex(i.index);
  const idx = raw < 0 ? arr.length + raw : raw;
  const found = idx >= 0 && idx < arr.length;
  return { result: found ? arr[idx] : (i.default ?? null), found };
}

/** Dotted lookup through objects and digit-indexed lists; anything else reads as null. */
function dottedPath(value: Json | undefined, path: string): Json {
  let cur: Json | undefined = value;
  for (const part of path.split(".")) {
    if (isObject(cur)) cur = cur[part];
    else if (Array.isArray(cur) && /^\d+$/.test(part)) cur = cur[Number(part)];
    else return null;
  }
  return cur ?? null;
}

function breakObject(i: JsonObject, paths: string[]): JsonObject {
  let obj = i.object;
  if (typeof obj === "string" && obj.trim()) {
    try {
      obj = parseJson({ text: obj });
    } catch {
      // an unreadable string stays a string: every path reads null
    }
  }
  const out: JsonObject = {};
  for (const p of paths.map((p) => p.trim()).filter((p) => p)) out[p] = dottedPath(obj, p);
  return out;
}

export const DATA_NODES: Record<string, PureFn> = {
  make_array: (i, node) => {
    const pins = node.inputs.filter((p) => p.type !== "execution").map((p) => p.id);
    return { result: pins.map((p) => i[p]).filter((v): v is Json => v !== undefined && v !== null) };
  },
  array_concat: (i, node) => {
    const pins = node.inputs.filter((p) => p.type !== "execution").map((p) => p.id);
    return { result: pins.flatMap((p) => asArray(i[p])) };
  },
  array_length: (i) => ({ result: Array.isArray(i.array) ? i.array.length : 0 }),
  array_append: (i) => ({ result: [...asArray(i.array), i.item ?? null] }),
  array_dedup: (i) => {
    const seen = new Set<string>();
    return {
      result: asArray(i.array).filter((x) => !seen.has(JSON.stringify(x)) && !!seen.add(JSON.stringify(x))),
    };
  },
  get_element: getElement,
  parse_json: (i) => ({ result: parseJson(i) }),
  break_object: (i, node) => {
    const cfg = node.data.breakConfig as { selectedPaths?: string[] } | undefined;
    const paths = Array.isArray(cfg?.selectedPaths)
      ? cfg.selectedPaths.filter((p) => typeof p === "string")
      : [];
    return breakObject(i, paths);
  },
  stringify_json: (i) => {
    const v = i.value ?? null;
    const mode = typeof i.mode === "string" ? i.mode : "none";
    if (typeof v === "string") return { result: v };
    return {
      result: mode === "beautify"
        ? JSON.stringify(v, null, 2)
        : mode === "minified"
        ? JSON.stringify(v)
        : pyDumps(v),
    };
  },
  make_object: (i, node) => {
    const out: JsonObject = {};
    for (const p of node.inputs.filter((p) => p.type !== "execution")) {
      if (i[p.id] !== undefined) out[p.id] = i[p.id];
    }
    return { result: out };
  },
  get: (i) => ({
    result: getPath(i.object ?? null, typeof i.path === "string" ? i.path : "") ?? i.default ?? null,
  }),
  merge: (i) => ({ result: { ...(isObject(i.a) ? i.a : {}), ...(isObject(i.b) ? i.b : {}) } }),
  system_datetime: () => {
    const offset = -new Date().getTimezoneOffset();
    return {
      iso: nowIso(),
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC",
      utc_offset_minutes: offset,
      locale: Intl.DateTimeFormat().resolvedOptions().locale ?? "en-US",
    };
  },
};
