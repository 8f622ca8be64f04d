/**
 * Reading JSON out of LLM text the way upstream's `parse_json` does: strict JSON, then the first
 * balanced `{…}`/`[…]` that parses inside surrounding prose, then a Python literal
 * (`{'continue': False}`, tuples, `None`) as the last resort.
 */
import type { Json, JsonObject } from "../types.ts";

/** Drops one surrounding ``` fence (with an optional language tag on its first line). */
function stripFence(text: string): string {
  const s = text.trim();
  if (!s.startsWith("```")) return s;
  const nl = s.indexOf("\n");
  if (nl === -1) return s.replace(/^`+|`+$/g, "").trim();
  const body = s.slice(nl + 1);
  const end = body.lastIndexOf("```");
  return (end === -1 ? body : body.slice(0, end)).trim();
}

/** End index (exclusive) of the bracket block opening at `start`, skipping quoted strings. */
function balancedEnd(s: string, start: number): number {
  let depth = 0;
  let quote: string | null = null;
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"') quote = c;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

function tryJson(s: string): { ok: true; value: Json } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(s) };
  } catch {
    return { ok: false };
  }
}

/** The first JSON object/array embedded in `s` (at most 64 candidate starts, as upstream). */
function firstEmbedded(s: string): { ok: true; value: Json } | { ok: false } {
  let tried = 0;
  for (let i = 0; i < s.length && tried < 64; i++) {
    if (s[i] !== "{" && s[i] !== "[") continue;
    tried++;
    const end = balancedEnd(s, i);
    if (end === -1) continue;
    const hit = tryJson(s.slice(i, end));
    if (hit.ok) return hit;
  }
  return { ok: false };
}

/** A small reader of Python literals (`ast.literal_eval` subset: dict, list, tuple, str, numbers, True/False/None). */
class PyLiteralReader {
  private i = 0;
  constructor(private s: string) {}

  read(): Json {
    const v = this.value();
    this.ws();
    if (this.i !== this.s.length) throw this.fail("unexpected trailing text");
    return v;
  }

  private fail(why: string): Error {
    return new Error(`malformed Python literal at ${this.i}: ${why}`);
  }

  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  private value(): Json {
    this.ws();
    const c = this.s[this.i];
    if (c === "{") return this.dict();
    if (c === "[") return this.seq("[", "]");
    if (c === "(") return this.seq("(", ")");
    if (c === "'" || c === '"') return this.str();
    const word = /^(True|False|None)\b/.exec(this.s.slice(this.i));
    if (word) {
      this.i += word[0].length;
      return word[0] === "True" ? true : word[0] === "False" ? false : null;
    }
    const num = /^[+-]?(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][+-]?\d+)?/.exec(this.s.slice(this.i));
    if (num) {
      this.i += num[0].length;
      return Number(num[0].replace(/_/g, ""));
    }
    throw this.fail("not a literal");
  }

  private str(): string {
    const q = this.s[this.i++];
    let out = "";
    const escapes: Record<string, string> = {
      n: "\n",
      t: "\t",
      r: "\r",
      "\\": "\\",
      "'": "'",
      '"': '"',
      "0": "\0",
    };
    while (this.i < this.s.length) {
      const c = this.s[this.i++];
      if (c === q) return out;
      if (c !== "\\") {
        out += c;
        continue;
      }
      const e = this.s[this.i++];
      if (e === "u" || e === "x") {
        const len = e === "u" ? 4 : 2;
        out += String.fromCharCode(parseInt(this.s.slice(this.i, this.i + len), 16));
        this.i += len;
      } else out += escapes[e] ?? `\\${e}`;
    }
    throw this.fail("unterminated string");
  }

  private seq(open: string, close: string): Json[] {
    this.i++;
    const out: Json[] = [];
    for (;;) {
      this.ws();
      if (this.s[this.i] === close) {
        this.i++;
        return out;
      }
      out.push(this.value());
      this.ws();
      if (this.s[this.i] === ",") this.i++;
      else if (this.s[this.i] !== close) throw this.fail(`expected ',' or '${close}' after ${open}…`);
    }
  }

  private dict(): JsonObject {
    this.i++;
    const out: JsonObject = {};
    for (;;) {
      this.ws();
      if (this.s[this.i] === "}") {
        this.i++;
        return out;
      }
      const key = this.value();
      this.ws();
      if (this.s[this.i++] !== ":") throw this.fail("expected ':'");
      out[typeof key === "string" ? key : JSON.stringify(key)] = this.value();
      this.ws();
      if (this.s[this.i] === ",") this.i++;
      else if (this.s[this.i] !== "}") throw this.fail("expected ',' or '}'");
    }
  }
}

/** Parses JSON-ish LLM text; throws "Invalid JSON: …" when nothing reads. */
export function parseJsonText(raw: string): Json {
  const text = stripFence(raw);
  if (!text) throw new Error("parse_json requires a non-empty 'text' input.");
  const strict = tryJson(text);
  if (strict.ok) return strict.value;
  const embedded = firstEmbedded(text);
  if (embedded.ok) return embedded.value;
  try {
    return new PyLiteralReader(text).read();
  } catch (err) {
    throw new Error(`Invalid JSON: ${(err as Error).message}`);
  }
}
