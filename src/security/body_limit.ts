/**
 * Request body caps for writes. Upload routes get their endpoint cap + 2 MiB (bounded by
 * MAX_UPLOAD_BODY_BYTES when set); everything else MAX_BODY_BYTES (0 = unlimited). A declared
 * Content-Length is checked up front; a body without one is read under the cap and handed on from memory.
 */
import type { MiddlewareHandler } from "hono";
import type { Config } from "../config/config.ts";
import { readLimited } from "./limits.ts";
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
    if (state.kind !== "write") return await next();
    const limit = bodyLimitFor(config, c.req.path);
    const declared = c.req.header("content-length")?.trim();
    if (declared && /^\d+$/.test(declared)) {
      const length = Number(declared);
      state.bytesIn = length;
      if (limit > 0 && length > limit) return payloadTooLarge(length, limit);
    } else if (limit > 0 && c.req.raw.body) {
      const raw = c.req.raw;
      const body = await readLimited(raw.body!, limit, state.abort.signal);
      if (!body.ok) return payloadTooLarge(body.received, limit);
      state.bytesIn = body.bytes.byteLength;
      const headers = new Headers(raw.headers);
      headers.delete("transfer-encoding");
      headers.set("content-length", String(body.bytes.byteLength));
      // No `signal: raw.signal`: linking to the serve request's signal opts into Deno's legacy abort mode.
      c.req.raw = new Request(raw.url, { method: raw.method, headers, body: body.bytes });
    }
    await next();
  };
}
