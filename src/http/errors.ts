/**
 * One error shape for the whole API: `{"detail": "<message>"}` (FastAPI style), or for request
 * validation failures `{"detail": [{type, loc, msg, input}]}` with status 422. Never a stack trace.
 */
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ZodError } from "zod";
import { BundleError } from "../bundles/types.ts";
import { StoreUnavailableError, StoreValidationError } from "../store/errors.ts";
import { BodyReadError, BodyTooLargeError } from "../security/body_deadline.ts";
import { StoreCorruptError } from "../store/types.ts";
import { errorText, logger } from "../util/log.ts";
import { isAbortedBody, isDiskFull, isNameTooLong } from "../util/os_errors.ts";
import type { AppEnv } from "./env.ts";

const log = logger("http");

/** Thrown by handlers: becomes `status` with `{"detail": detail}` (and optional extra headers). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = "HttpError";
  }
}

export const runNotFound = (runId: string): HttpError => new HttpError(404, `Run '${runId}' not found`);

export interface ValidationItem {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

/** pydantic v2's type codes and wording for a value of the wrong JSON type. */
const PYDANTIC_TYPES: Record<string, [string, string]> = {
  string: ["string_type", "Input should be a valid string"],
  number: ["float_type", "Input should be a valid number"],
  int: ["int_type", "Input should be a valid integer"],
  boolean: ["bool_type", "Input should be a valid boolean"],
  array: ["list_type", "Input should be a valid list"],
  object: ["dict_type", "Input should be a valid dictionary"],
  record: ["dict_type", "Input should be a valid dictionary"],
};

/** The 422 items for a body that is not JSON (`json_invalid`) or is missing (`missing`), as FastAPI. */
export function bodyParseItems(reason: string | null): ValidationItem[] {
  if (reason === null) return [{ type: "missing", loc: ["body"], msg: "Field required", input: null }];
  const at = /position (\d+)/.exec(reason);
  return [{
    type: "json_invalid",
    loc: ["body", at ? Number(at[1]) : 0],
    msg: "JSON decode error",
    input: {},
    ctx: { error: reason },
  }];
}

/** Thrown by the zod hook; rendered as 422 with FastAPI's list shape. */
export class RequestValidationError extends Error {
  constructor(readonly items: ValidationItem[]) {
    super(items.map((i) => `${i.loc.join(".")}: ${i.msg}`).join("; "));
    this.name = "RequestValidationError";
  }
}

const LOCATION: Record<string, string> = {
  json: "body",
  form: "body",
  query: "query",
  param: "path",
  header: "header",
  cookie: "cookie",
};

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let cur = data;
  for (const key of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

/** Converts a zod failure into FastAPI-style validation items. */
export function validationItems(target: string, error: ZodError, data: unknown): ValidationItem[] {
  return error.issues.map((issue) => {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    const input = valueAt(data, path);
    const loc = [LOCATION[target] ?? target, ...path];
    if (issue.code === "invalid_type" && input === undefined) {
      return { type: "missing", loc, msg: "Field required", input: valueAt(data, path.slice(0, -1)) ?? null };
    }
    if (issue.code === "invalid_type") {
      const [type, msg] = path.length === 0 && target === "json"
        ? ["model_attributes_type", "Input should be a valid dictionary or object to extract fields from"]
        : PYDANTIC_TYPES[String(issue.expected)] ?? [`${issue.expected}_type`, issue.message];
      return { type, loc, msg, input: input ?? null };
    }
    const type = issue.code === "too_small"
      ? "greater_than_equal"
      : issue.code === "too_big"
      ? "less_than_equal"
      : issue.code;
    return { type, loc, msg: issue.message, input: input ?? null };
  });
}

/** `defaultHook` of the OpenAPIHono app: every schema failure becomes a 422. */
export function validationHook(
  result: { success: boolean; error?: ZodError; data?: unknown; target: string },
): void {
  if (!result.success && result.error) {
    throw new RequestValidationError(validationItems(result.target, result.error, result.data));
  }
}

function errorResponse(c: Context<AppEnv>, status: number, detail: unknown, headers = {}): Response {
  return c.json({ detail }, status as 400, headers);
}

export const onError: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof HttpError) return errorResponse(c, err.status, err.detail, err.headers);
  if (err instanceof RequestValidationError) return errorResponse(c, 422, err.items);
  if (err instanceof BundleError) return errorResponse(c, err.status, err.message);
  if (err instanceof StoreValidationError) return errorResponse(c, 400, err.message);
  if (err instanceof StoreUnavailableError) {
    log.warn("store unavailable", { request_id: c.get("requestId"), error: err.message });
    return errorResponse(c, 503, err.message, { "retry-after": "1" });
  }
  if (err instanceof HTTPException) {
    const res = err.getResponse();
    const detail = err.message || res.statusText || "Bad Request";
    return errorResponse(c, err.status, detail);
  }
  const requestId = c.get("requestId");
  if (err instanceof BodyReadError) return errorResponse(c, 408, err.message, { Connection: "close" });
  if (err instanceof BodyTooLargeError) return errorResponse(c, 413, err.message, { Connection: "close" });
  if (isNameTooLong(err)) return errorResponse(c, 400, "Cannot use the name given: it is too long");
  if (isAbortedBody(err)) return errorResponse(c, 400, "Cannot read the request body: it was cut short");
  if (isDiskFull(err)) {
    log.error("disk full", { request_id: requestId, path: c.req.path, error: errorText(err) });
    return errorResponse(c, 507, "Cannot store the request: the disk is full; nothing was saved", {
      "Retry-After": "30",
    });
  }
  if (err instanceof StoreCorruptError) {
    log.error("corrupt store entry", { request_id: requestId, location: err.location, error: err.message });
    return errorResponse(c, 500, `Stored data is corrupt; see the server log (request id ${requestId})`);
  }
  log.error("unhandled error", {
    request_id: requestId,
    method: c.req.method,
    path: c.req.path,
    error: errorText(err),
  });
  return errorResponse(c, 500, `Internal server error (request id ${requestId})`);
};

export const onNotFound: NotFoundHandler<AppEnv> = (c) => errorResponse(c, 404, "Not Found");
