/** Data nodes: arrays, objects, JSON parsing/printing, datetime. */
import type { Json, JsonObject } from "../types.ts";
import { nowIso } from "../../util/time.ts";
import { getPath, isObject } from "../engine/json.ts";
import type { PureFn } from "./pins.ts";
import { toNumber } from "./py.ts";

const asArray = (
  v: Json | undefined,
): Json[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);

/** Lenient JSON: strict parse, then ``` fences stripped, then the first {…}/[…] block. */
export function parseLenient(text: string): Json {
  const attempts = [text.trim()];
  const fenced = text.match(/```(?:json)?\s*([\s\S]*?)```/i);
  if (fenced) attempts.push(fenced[1].trim());
  const block = text.match(/[{[][\s\S]*[}\]]/);
  if (block) attempts.push(block[0]);
  for (const a of attempts) {
    try {
      return JSON.parse(a);
    } catch {
      // try the next, more lenient reading
    }
  }
  throw new Error(`parse_json: not valid JSON: ${text.slice(0, 120)}`);
}

function parseJson(v: Json | undefined): Json {
  if (Array.isArray(v) || isObject(v)) return v;
  if (typeof v !== "string") return { value: v ?? null };
  const parsed = parseLenient(v);
  return Array.isArray(parsed) || isObject(parsed) ? parsed : { value: parsed };
}

/** Python `json.dumps` default spacing (`, ` and `: `). */
function pyDumps(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(pyDumps).join(", ")}]`;
  if (isObject(v)) {
    return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${pyDumps(x)}`).join(", ")}}`;
  }
  return JSON.stringify(v);
}

function getElement(i: JsonObject): JsonObject {
  const arr = asArray(i.array);
  const raw = i.index === undefined || i.index === null ? 0 : Math.trunc(toNumber(i.index, "index"));
  const idx = raw < 0 ? arr.length + raw : raw;
  const found = idx >= 0 && idx < arr.length;
  return { result: found ? arr[idx] : (i.default ?? null), found };
}

function breakObject(i: JsonObject, paths: string[]): JsonObject {
  let obj = i.object;
  if (typeof obj === "string") {
    try {
      obj = parseLenient(obj);
    } catch {
      obj = null;
    }
  }
  const out: JsonObject = {};
  for (const p of paths) out[p] = getPath(obj ?? null, p) ?? null;
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
  array_length: (i) => ({ result: asArray(i.array).length }),
  array_append: (i) => ({ result: [...asArray(i.array), i.item ?? null] }),
  array_dedup: (i) => {
    const seen = new Set<string>();
    return {
      result: asArray(i.array).filter((x) => !seen.has(JSON.stringify(x)) && !!seen.add(JSON.stringify(x))),
    };
  },
  get_element: getElement,
  parse_json: (i) => ({ result: parseJson(i.text ?? i.value ?? i.json) }),
  break_object: (i, node) => {
    const cfg = node.data.breakConfig as { selectedPaths?: string[] } | undefined;
    return breakObject(i, Array.isArray(cfg?.selectedPaths) ? cfg.selectedPaths : []);
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
