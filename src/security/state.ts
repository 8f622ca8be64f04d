/** What the security stages learn about one request, shared between them through the Hono context. */
import type { Context } from "hono";
import type { Principal } from "./principal.ts";

/** read = GET/HEAD; write = POST/PUT/PATCH/DELETE and any unknown method; other = OPTIONS. */
export type RequestKind = "read" | "write" | "other";

export interface RequestSecurity {
  requestId: string;
  ip: string;
  kind: RequestKind;
  authRequired: boolean;
  /** Fingerprint of the presented bearer token (valid or not). */
  tokenFp?: string;
  principal?: Principal;
  /** Rejected by origin, auth, lockout or the admin table: audited even for reads. */
  denied: boolean;
  bytesIn?: number;
  /** Aborted when the request times out, so a body still being read is dropped. */
  readonly abort: AbortController;
}

export interface SecurityEnv {
  Bindings: { info?: Deno.ServeHandlerInfo };
  Variables: { requestId: string; principal?: Principal; security: RequestSecurity };
}

export function requestKind(method: string): RequestKind {
  const m = method.toUpperCase();
  if (m === "GET" || m === "HEAD") return "read";
  if (m === "OPTIONS") return "other";
  return "write";
}

/** The state set by the first stage; a stage mounted without it is a wiring bug. */
export function securityState(c: Context<SecurityEnv>): RequestSecurity {
  const state = c.get("security");
  if (!state) throw new Error("security stages must run after the audit stage of securityMiddleware()");
  return state;
}
