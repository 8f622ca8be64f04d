/**
 * Request body caps and read deadlines for writes. Upload routes get their endpoint cap + 2 MiB (bounded
 * by MAX_UPLOAD_BODY_BYTES when set); everything else MAX_BODY_BYTES (0 = unlimited). A declared
 * Content-Length is checked up front; every capped body is then read here under the cap and handed on
 * from memory (a small declared one in one piece under one deadline), except on upload routes, whose body streams on and fails with a 413 as soon as it passes
 * the cap (the upload handlers spool it to disk, so no upload is ever held in memory whole).
 * Every body is read under the deadlines of body_deadline.ts.
 */
import type { Context } from "hono";
import type { Config } from "../config/config.ts";
import {
  type BodyDeadlines,
  BodyTooLargeError,
  fitsOneDeadline,
  readSmallWithDeadline,
  readWithDeadlines,
  withBodyDeadlines,
} from "./body_deadline.ts";
import { DeadlineQueue } from "./deadline_queue.ts";
import { payloadTooLarge } from "./responses.ts";
import { uploadKind } from "./routes.ts";
import type { RequestSecurity, SecurityEnv } from "./state.ts";

const UPLOAD_SLACK = 2 * 1024 * 1024;

/** The byte cap for a write to `path`; 0 = unlimited. */
export function bodyLimitFor(config: Config, path: string): number {
  const kind = uploadKind(path);
  if (kind === null) return config.maxBodyBytes;
  const endpointCap = kind === "bundle" ? config.maxBundleBytes : config.maxAttachmentBytes;
  const cap = endpointCap + UPLOAD_SLACK;
  return config.maxUploadBodyBytes > 0 ? Math.min(cap, config.maxUploadBodyBytes) : cap;
}

const JSON_TYPE = /^application\/([\w.+-]*\+)?json\b/i;
const decoder = new TextDecoder();

/**
 * Applies the cap and deadlines to a write's body: the rejection to answer with, or undefined to go
 * on. A capped body outside the upload routes is read here, whole and once: a JSON one is handed to
 * the handler through Hono's body cache (`c.req.text()`/`json()`/`arrayBuffer()`, no second read, no
 * copy of the request), any other as a new in-memory request. Uploads (and unlimited bodies) stream
 * on under the deadlines.
 */
export type BodyGate = (
  c: Context<SecurityEnv>,
  state: RequestSecurity,
) => Response | undefined | Promise<Response | undefined>;

export function bodyGate(config: Config): BodyGate {
  // Idle deadlines of pieces and the one deadline of a small body: both last BODY_IDLE_TIMEOUT_S.
  const idleDeadlines = new DeadlineQueue(config.bodyIdleTimeoutS * 1000);
  const deadlines = (state: RequestSecurity, limit: number): BodyDeadlines => ({
    idleMs: config.bodyIdleTimeoutS * 1000,
    minBytesPerS: config.bodyMinRateBps,
    graceMs: config.bodyIdleTimeoutS * 1000, // a slow start is fine for as long as a pause would be
    signal: state.abort.signal,
    maxBytes: limit > 0 ? limit : undefined,
  });
  const readWhole = async (
    c: Context<SecurityEnv>,
    state: RequestSecurity,
    limit: number,
    length: number | null,
  ) => {
    const raw = c.req.raw;
    const opts = deadlines(state, limit);
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = length !== null && fitsOneDeadline(length, opts)
        ? new Uint8Array(await readSmallWithDeadline(raw, opts.signal, idleDeadlines))
        : await readWithDeadlines(raw.body!, opts, idleDeadlines);
    } catch (err) {
      if (err instanceof BodyTooLargeError) return payloadTooLarge(err.received, limit);
      throw err;
    }
    state.bytesIn = bytes.byteLength;
    if (JSON_TYPE.test(raw.headers.get("content-type") ?? "")) {
      c.req.bodyCache.arrayBuffer = Promise.resolve(bytes.buffer) as never;
      c.req.bodyCache.text = Promise.resolve(decoder.decode(bytes)) as never;
      return undefined;
    }
    const headers = new Headers(raw.headers);
    headers.delete("transfer-encoding");
    headers.set("content-length", String(bytes.byteLength));
    // No `signal: raw.signal`: linking to the serve request's signal opts into Deno's legacy abort mode.
    c.req.raw = new Request(raw.url, { method: raw.method, headers, body: bytes });
    return undefined;
  };
  return (c, state) => {
    const raw = c.req.raw;
    if (state.kind !== "write" || !raw.body) return undefined;
    const path = c.req.path;
    const limit = bodyLimitFor(config, path);
    const declared = raw.headers.get("content-length")?.trim();
    const length = declared && /^\d+$/.test(declared) ? Number(declared) : null;
    if (length !== null) {
      state.bytesIn = length;
      if (limit > 0 && length > limit) return payloadTooLarge(length, limit);
    }
    if (limit > 0 && uploadKind(path) === null) return readWhole(c, state, limit, length);
    const body = withBodyDeadlines(raw.body, deadlines(state, limit));
    c.req.raw = new Request(raw.url, { method: raw.method, headers: new Headers(raw.headers), body });
    return undefined;
  };
}
