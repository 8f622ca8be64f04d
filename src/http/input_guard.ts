/**
 * Checks at the door that every identifier a request carries is one the stores can hold: each path
 * segment (path parameters become file names and SQLite keys) and every `*_id` / `*_ids` /
 * `idempotency_key` value of a JSON body, plus a bound on JSON nesting depth. A bad one is a 400
 * naming the field, never a 500 from deep inside a store or a command the runner cannot apply.
 */
import type { MiddlewareHandler } from "hono";
import { idProblem } from "../store/validate.ts";
import type { AppEnv } from "./env.ts";
import { bodyParseItems, HttpError, RequestValidationError } from "./errors.ts";

/** Deeper JSON is refused before parsing (recursive validators and serialisers would overflow). */
export const MAX_JSON_DEPTH = 64;
/** Object levels of a body searched for id fields (the body and e.g. a command's `payload`). */
const ID_SEARCH_DEPTH = 2;
const ID_KEY = /(^|_)id$|^idempotency_key$/;
const ID_LIST_KEY = /_ids$/;

/** The path of a request URL as sent (percent escapes kept), without parsing the URL again. */
function rawPath(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  return url.slice(start, query < 0 ? url.length : query);
}

/** Throws a 400 when a path segment is not a valid id (malformed escapes included). */
function checkPathIds(path: string): void {
  for (const raw of path.split("/")) {
    if (raw === "") continue;
    let segment: string;
    try {
      segment = raw.includes("%") ? decodeURIComponent(raw) : raw;
    } catch {
      throw new HttpError(400, `Invalid path segment ${JSON.stringify(raw.slice(0, 60))}: malformed escape`);
    }
    const problem = idProblem(segment);
    if (problem) {
      throw new HttpError(400, `Invalid path segment ${JSON.stringify(segment.slice(0, 60))}: ${problem}`);
    }
  }
}

const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const JSON_TYPE = /^application\/([\w.+-]*\+)?json\b/i;

/**
 * In front of every `/api/gateway/*` route: 400 for a path segment that is not a valid id, and a JSON
 * request body parsed up front so a malformed or empty one gets upstream's 422 (`json_invalid` with
 * the parser's reason in `ctx.error`, or `missing`) and its id fields are checked; the validators
 * then read the body text Hono has cached.
 */
export const inputGuard: MiddlewareHandler<AppEnv> = async (c, next) => {
  checkPathIds(rawPath(c.req.url));
  const method = c.req.method;
  if (BODY_METHODS.has(method) && JSON_TYPE.test(c.req.header("content-type") ?? "")) {
    // A body-less DELETE is fine.
    const text = await c.req.text();
    if (text.trim() === "") {
      if (method !== "DELETE") throw new RequestValidationError(bodyParseItems(null));
    } else {
      checkJsonDepth(text);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new RequestValidationError(bodyParseItems(reason));
      }
      checkBodyIds(body);
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
