/**
 * Request body caps and read deadlines for writes. Upload routes get their endpoint cap + 2 MiB (bounded
 * by MAX_UPLOAD_BODY_BYTES when set); everything else MAX_BODY_BYTES (0 = unlimited). A declared
 * Content-Length is checked up front; a body without one is read under the cap and handed on from memory,
 * except on upload routes, whose body streams on and fails with a 413 as soon as it passes the cap (the
 * upload handlers spool it to disk, so no upload is ever held in memory whole).
 * Every body is read under the deadlines of body_deadline.ts.
 */
import type { MiddlewareHandler } from "hono";
import type { Config } from "../config/config.ts";
import { readLimited } from "./limits.ts";
import { withBodyDeadlines } from "./body_deadline.ts";
import { payloadTooLarge } from "./responses.ts";
import { uploadKind } from "./routes.ts";
import { type SecurityEnv, securityState } from "./state.ts";

const UPLOAD_SLACK = 2 * 1024 * 1024;

/** The byte cap for a write to `path`; 0 = unlimited. */
export function bodyLimitFor(config: Config, path: string): number {
  const kind = uploadKind(path);
  if (kind === null) return config.maxBodyBytes;
  const endpointCap = kind === "bundle" ? config.maxBundleBytes : config.maxAttachmentBytes;
  const cap = endpointCap + UPLOAD_SLACK;
  return config.maxUploadBodyBytes > 0 ? Math.min(cap, config.maxUploadBodyBytes) : cap;
}

export function bodyLimitStage(config: Config): MiddlewareHandler<SecurityEnv> {
  return async (c, next) => {
    const state = securityState(c);
    const raw = c.req.raw;
    if (state.kind !== "write" || !raw.body) return await next();
    const limit = bodyLimitFor(config, c.req.path);
    const declared = c.req.header("content-length")?.trim();
    const length = declared && /^\d+$/.test(declared) ? Number(declared) : null;
    if (length !== null) {
      state.bytesIn = length;
      if (limit > 0 && length > limit) return payloadTooLarge(length, limit);
    }
    const body = withBodyDeadlines(raw.body, {
      idleMs: config.bodyIdleTimeoutS * 1000,
      minBytesPerS: config.bodyMinRateBps,
      graceMs: config.bodyIdleTimeoutS * 1000, // a slow start is fine for as long as a pause would be
      signal: state.abort.signal,
      maxBytes: limit > 0 ? limit : undefined,
    });
    const headers = new Headers(raw.headers);
    if (length === null && limit > 0 && uploadKind(c.req.path) === null) {
      const read = await readLimited(body, limit, state.abort.signal);
      if (!read.ok) return payloadTooLarge(read.received, limit);
      state.bytesIn = read.bytes.byteLength;
      headers.delete("transfer-encoding");
      headers.set("content-length", String(read.bytes.byteLength));
      // No `signal: raw.signal`: linking to the serve request's signal opts into Deno's legacy abort mode.
      c.req.raw = new Request(raw.url, { method: raw.method, headers, body: read.bytes });
    } else {
      c.req.raw = new Request(raw.url, { method: raw.method, headers, body });
    }
    await next();
  };
}
