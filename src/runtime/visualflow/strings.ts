/** String nodes. A present null pin reads as Python's "None"; an absent pin is "" (§10 hazards). */
import type { Json, JsonObject } from "../types.ts";
import type { PureFn } from "./pins.ts";
import { decodeEscapes, pyStr, toNumber } from "./py.ts";

const text = (v: Json | undefined): string => (v === undefined ? "" : pyStr(v));
const opt = (v: Json | undefined, fallback: string): string =>
  typeof v === "string" ? v : v === undefined || v === null ? fallback : pyStr(v);

function split(i: JsonObject): Json[] {
  const delimiter = decodeEscapes(i.delimiter === undefined ? "," : opt(i.delimiter, ""));
  const maxsplit = typeof i.maxsplit === "number" && i.maxsplit >= 0 ? i.maxsplit : -1;
  const whole = i.text === null ? "" : text(i.text);
  if (delimiter === "") return whole ? [whole] : []; // upstream: an empty delimiter does not split
  const parts = whole.split(delimiter);
  const limited = maxsplit >= 0 && parts.length > maxsplit + 1
    ? [...parts.slice(0, maxsplit), parts.slice(maxsplit).join(delimiter)]
    : parts;
  const trimmed = i.trim === false ? limited : limited.map((p) => p.trim());
  return i.drop_empty === false ? trimmed : trimmed.filter((p) => p !== "");
}

/** `str(inputs.get("delimiter", ","))`: a present null delimiter is Python's "None", as upstream. */
function join(i: JsonObject): string {
  const items = i.items === undefined || i.items === null ? [] : Array.isArray(i.items) ? i.items : [i.items];
  const delimiter = i.delimiter === undefined ? "," : pyStr(i.delimiter);
  return items.map((x) => (x === null ? "" : pyStr(x))).join(decodeEscapes(delimiter));
}

/** Replaces `pattern` by `replacement`; mode first|once|1, all|*|global (default) or a count (< 0 = all). */
function replace(i: JsonObject): string {
  const s = i.text === null ? "" : text(i.text),
    find = opt(i.pattern ?? i.find ?? i.old ?? i.search, ""),
    by = opt(i.replacement ?? i.replace ?? i.new, "");
  if (find === "") return s;
  const mode = i.mode === undefined || i.mode === null ? "all" : pyStr(i.mode).trim().toLowerCase();
  const count = ["first", "once", "1"].includes(mode) ? 1 : /^[+-]?\d+$/.test(mode) ? Number(mode) : -1;
  if (count < 0) return s.split(find).join(by);
  const parts = s.split(find);
  return parts.length <= count + 1 ? parts.join(by) : parts.slice(0, count + 1).join(by) + find +
    parts.slice(count + 1).join(find);
}

export const STRING_NODES: Record<string, PureFn> = {
  concat: (i, node) => {
    const cfg = node.data.concatConfig as { separator?: string } | undefined;
    const sep = decodeEscapes(typeof cfg?.separator === "string" ? cfg.separator : " ");
    const pins = node.inputs.filter((p) => p.type !== "execution").map((p) => p.id);
    // unset pins are skipped (no separator for them); a present null reads ""
    const parts = pins.filter((p) => i[p] !== undefined).map((p) => (i[p] === null ? "" : pyStr(i[p])));
    return { result: parts.join(sep) };
  },
  split: (i) => ({ result: split(i) }),
  join: (i) => ({ result: join(i) }),
  uppercase: (i) => ({ result: text(i.text).toUpperCase() }),
  lowercase: (i) => ({ result: text(i.text).toLowerCase() }),
  trim: (i) => ({ result: text(i.text).trim() }),
  length: (i) => ({ result: [...text(i.text)].length }),
  is_empty_string: (i) => ({ result: (i.text === null ? "" : text(i.text)) === "" }),
  contains: (i) => {
    const pattern = opt(i.pattern ?? i.substring ?? i.search ?? i.value, "");
    return { result: pattern !== "" && (i.text === null ? "" : text(i.text)).includes(pattern) };
  },
  replace: (i) => ({ result: replace(i) }),
  substring: (i) => {
    const chars = [...text(i.text)];
    const start = i.start === undefined || i.start === null ? 0 : toNumber(i.start, "start");
    const end = i.end === undefined || i.end === null ? chars.length : toNumber(i.end, "end");
    return { result: chars.slice(start, end).join("") };
  },
};
