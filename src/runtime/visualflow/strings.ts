/** String nodes. A present null pin reads as Python's "None"; an absent pin is "" (§10 hazards). */
import type { Json, JsonObject } from "../types.ts";
import type { PureFn } from "./pins.ts";
import { decodeEscapes, pyStr, toNumber } from "./py.ts";

const text = (v: Json | undefined): string => (v === undefined ? "" : pyStr(v));
const opt = (v: Json | undefined, fallback: string): string =>
  typeof v === "string" ? v : v === undefined || v === null ? fallback : pyStr(v);

function split(i: JsonObject): Json[] {
  const delimiter = decodeEscapes(opt(i.delimiter, ",")) || ",";
  const maxsplit = typeof i.maxsplit === "number" && i.maxsplit >= 0 ? i.maxsplit : -1;
  const parts = text(i.text).split(delimiter);
  const limited = maxsplit >= 0 && parts.length > maxsplit + 1
    ? [...parts.slice(0, maxsplit), parts.slice(maxsplit).join(delimiter)]
    : parts;
  const trimmed = i.trim === false ? limited : limited.map((p) => p.trim());
  return i.drop_empty === false ? trimmed : trimmed.filter((p) => p !== "");
}

function join(i: JsonObject): string {
  const items = i.items === undefined || i.items === null ? [] : Array.isArray(i.items) ? i.items : [i.items];
  return items.map((x) => (x === null ? "" : pyStr(x))).join(decodeEscapes(opt(i.delimiter, ",")));
}

function replace(i: JsonObject): string {
  const s = text(i.text),
    find = opt(i.find ?? i.old ?? i.search, ""),
    by = opt(i.replace ?? i.new ?? i.replacement, "");
  if (find === "") return s;
  const mode = i.mode ?? "all";
  if (mode === "first") return s.replace(find, () => by);
  if (typeof mode === "number" || (typeof mode === "string" && /^\d+$/.test(mode))) {
    let out = s;
    for (let n = 0; n < Number(mode); n++) out = out.replace(find, () => by);
    return out;
  }
  return s.split(find).join(by);
}

export const STRING_NODES: Record<string, PureFn> = {
  concat: (i, node) => {
    const cfg = node.data.concatConfig as { separator?: string } | undefined;
    const sep = decodeEscapes(typeof cfg?.separator === "string" ? cfg.separator : " ");
    const pins = node.inputs.filter((p) => p.type !== "execution").map((p) => p.id);
    return { result: pins.map((p) => (i[p] === undefined || i[p] === null ? "" : pyStr(i[p]))).join(sep) };
  },
  split: (i) => ({ result: split(i) }),
  join: (i) => ({ result: join(i) }),
  uppercase: (i) => ({ result: text(i.text).toUpperCase() }),
  lowercase: (i) => ({ result: text(i.text).toLowerCase() }),
  trim: (i) => ({ result: text(i.text).trim() }),
  length: (i) => ({ result: [...text(i.text)].length }),
  is_empty_string: (i) => ({ result: text(i.text).trim() === "" }),
  contains: (i) => ({ result: text(i.text).includes(opt(i.substring ?? i.search ?? i.value, "")) }),
  replace: (i) => ({ result: replace(i) }),
  substring: (i) => {
    const chars = [...text(i.text)];
    const start = i.start === undefined || i.start === null ? 0 : toNumber(i.start, "start");
    const end = i.end === undefined || i.end === null ? chars.length : toNumber(i.end, "end");
    return { result: chars.slice(start, end).join("") };
  },
};
