/**
 * Checks at the door that every identifier a request carries is one the stores can hold: each path
 * segment (path parameters become file names and SQLite keys) and every `*_id` / `*_ids` /
 * `idempotency_key` value of a JSON body, plus a bound on JSON nesting depth. A bad one is a 400
 * naming the field, never a 500 from deep inside a store or a command the runner cannot apply.
 */
import type { MiddlewareHandler } from "hono";
import { idProblem } from "../store/validate.ts";
import type { AppEnv } from "./env.ts";
import { HttpError } from "./errors.ts";

/** Deeper JSON is refused before parsing (recursive validators and serialisers would overflow). */
export const MAX_JSON_DEPTH = 64;
/** Object levels of a body searched for id fields (the body and e.g. a command's `payload`). */
const ID_SEARCH_DEPTH = 2;
const ID_KEY = /(^|_)id$|^idempotency_key$/;
const ID_LIST_KEY = /_ids$/;

/** 400 when a path segment is not a valid id (malformed escapes included). */
export const pathIdGuard: MiddlewareHandler<AppEnv> = async (c, next) => {
  for (const raw of new URL(c.req.url).pathname.split("/")) {
    if (raw === "") continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      throw new HttpError(400, `Invalid path segment ${JSON.stringify(raw.slice(0, 60))}: malformed escape`);
    }
    const problem = idProblem(segment);
    if (problem) {
      throw new HttpError(400, `Invalid path segment ${JSON.stringify(segment.slice(0, 60))}: ${problem}`);
    }
  }
  await next();
};

/** Throws a 400 when `text` (JSON) nests arrays/objects deeper than MAX_JSON_DEPTH. */
export function checkJsonDepth(text: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++; // skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) {
      inString = true;
    } else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) {
        throw new HttpError(400, `Invalid JSON body: nested deeper than ${MAX_JSON_DEPTH} levels`);
      }
    } else if (ch === 0x7d || ch === 0x5d) {
      depth--;
    }
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** 400 unless `value` (when a non-empty string) is a printable, bounded id. */
export function checkId(field: string, value: unknown): void {
  if (typeof value !== "string" || value === "") return; // type and presence are the schemas' business
  // Separators are the stores' business (an emit_event run_id may be a session id such as "a/b").
  const problem = idProblem(value, false);
  if (problem) throw new HttpError(400, `${field} is not a valid id: ${problem}`);
}

/** Throws a 400 naming the first id field of a parsed JSON body that is not printable and bounded. */
export function checkBodyIds(body: unknown, prefix = "", level = 1): void {
  if (!isObject(body)) return;
  for (const [key, value] of Object.entries(body)) {
    const field = prefix + key;
    if (ID_KEY.test(key)) checkId(field, value);
    else if (ID_LIST_KEY.test(key) && Array.isArray(value)) {
      value.forEach((v, i) => checkId(`${field}[${i}]`, v));
    } else if (level < ID_SEARCH_DEPTH) checkBodyIds(value, `${field}.`, level + 1);
  }
}
