/**
 * The security pipeline for `/api/gateway/*`, one Hono middleware running the stages in contract order
 * (§4.2): request id + audit (outermost, so rejections are audited too) → origin → lockout → auth →
 * principal → admin-only routes (access.ts) → concurrency + timeout (throttle.ts) → body limit and
 * deadlines (body_limit.ts) → handler.
 *
 * The server must pass Deno's serve info as the Hono env (`app.fetch(req, { info })`) so the lockout and
 * the audit log see the client address.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Config } from "../config/config.ts";
import { errorText } from "../util/log.ts";
import { isoUtc } from "../util/time.ts";
import { accessCheck } from "./access.ts";
import { auditHeaders, AuditLog, redactQuery } from "./audit.ts";
import { bodyGate } from "./body_limit.ts";
import { clientAddress, Lockout } from "./lockout.ts";
import { securityDisabledAdmin } from "./principal.ts";
import { SessionStore } from "./sessions.ts";
import { requestKind, type RequestSecurity, type SecurityEnv, securityState } from "./state.ts";
import { throttleGate, throttlePools } from "./throttle.ts";
import { TokenVerifier } from "./tokens.ts";
import { requestIdFrom } from "../http/request_id.ts";
import type { SlotsInUse } from "../metrics/gateway_metrics.ts";

export interface SecurityDeps {
  /** Audit log to append to (default: `<dataDir>/audit_log.jsonl` with the configured rotation). */
  audit?: AuditLog;
  /** Clock for lockout expiry and audit timestamps (epoch ms). */
  now?: () => number;
}

export interface Security {
  /** Mount in this order on `/api/gateway/*`. */
  middlewares: MiddlewareHandler[];
  /** The audit log (readable through `registerAuditRoutes` even when recording is off). */
  audit: AuditLog;
  /** Console sessions (cookie auth of the API) and the lockout and tokens that sign-in goes through. */
  sessions: SessionStore;
  /** The auth lockout, shared with routes outside `/api/gateway` (console sign-in, /metrics). */
  lockout: Lockout;
  verifier: TokenVerifier;
  /** Slots of the general and SSE pools held now (for `GatewayMetrics.slotsFrom`). */
  slotsInUse(): SlotsInUse;
  /** Waits for pending audit writes. */
  close(): Promise<void>;
}

function requestIdOf(c: Context<SecurityEnv>): string {
  return c.get("requestId") || requestIdFrom(c.req.header("x-request-id"));
}

export function securityMiddleware(config: Config, deps: SecurityDeps = {}): Security {
  const now = deps.now ?? Date.now;
  const audit = deps.audit ?? new AuditLog({
    dataDir: config.dataDir,
    maxBytes: config.auditLogMaxBytes,
    rotations: config.auditLogRotations,
  });
  const close = () => audit.flush();
  const sessions = new SessionStore(config.consoleSessionTtlS, 10_000, now);
  const verifier = new TokenVerifier(config.authTokens);
  const lockout = new Lockout({
    after: config.lockoutAfter,
    baseS: config.lockoutBaseS,
    maxS: config.lockoutMaxS,
    windowS: config.lockoutWindowS,
    now,
  });
  const shared = { audit, close, sessions, lockout, verifier };

  if (!config.security) {
    const passThrough: MiddlewareHandler<SecurityEnv> = async (c, next) => {
      c.set("principal", securityDisabledAdmin());
      await next();
    };
    // No pools without the security pipeline: nothing is ever held.
    return { middlewares: [passThrough], slotsInUse: () => ({ general: 0, sse: 0 }), ...shared };
  }

  const pools = throttlePools(config);
  const access = accessCheck(config, { lockout, verifier, sessions });
  const throttle = throttleGate(config, pools);
  const body = bodyGate(config);

  const audited = (c: Context<SecurityEnv>, state: RequestSecurity, started: number, error?: string) => {
    const url = new URL(c.req.url);
    const headers = c.req.raw.headers;
    audit.record({
      ts: isoUtc(new Date(now())),
      request_id: state.requestId,
      ip: state.ip,
      method: c.req.method,
      path: url.pathname,
      query: redactQuery(url.search),
      status: c.finalized ? c.res.status : 0,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
      auth_required: state.authRequired,
      auth_token_fp: state.tokenFp,
      principal_user_id: state.principal?.user_id,
      principal_tenant_id: state.principal?.tenant_id,
      origin: headers.get("origin") ?? undefined,
      user_agent: headers.get("user-agent") ?? undefined,
      bytes_in: state.bytesIn,
      headers: auditHeaders(headers, config.auditLogHeaders),
      error,
    });
  };

  // One stage for audit → access → throttle instead of a middleware each: every Hono layer costs a
  // dispatch, a closure and an await on every request.
  const stage: MiddlewareHandler<SecurityEnv> = async (c, next) => {
    const started = performance.now();
    let abort: AbortController | undefined;
    const state: RequestSecurity = {
      requestId: requestIdOf(c),
      ip: clientAddress(c, config.trustProxy),
      kind: requestKind(c.req.method),
      authRequired: false,
      denied: false,
      // Made when first needed (a body read or a timeout): most requests never need one.
      get abort() {
        return abort ??= new AbortController();
      },
    };
    c.set("security", state);
    c.set("requestId", state.requestId);
    let error: string | undefined;
    try {
      const denied = access(c, state) ?? await throttle(c, state, next);
      if (denied) c.res = denied;
    } catch (err) {
      error = errorText(err);
      throw err;
    } finally {
      if (!error && !c.res.headers.has("x-request-id")) c.header("X-Request-Id", state.requestId);
      // A handler's exception has already become a response via onError; Hono keeps it in `c.error`.
      if (!error && c.error) error = errorText(c.error);
      if (config.auditLog && (state.kind === "write" || state.denied)) audited(c, state, started, error);
    }
  };

  // The body is read in a layer of its own, so a body that fails (408, cut short) becomes its response
  // through the app's error handler inside the stage above, which then audits and releases as usual.
  const bodyStage: MiddlewareHandler<SecurityEnv> = async (c, next) => {
    const refused = await body(c, securityState(c));
    if (refused) return refused;
    await next();
  };
  const middlewares = [stage, bodyStage] as MiddlewareHandler[];
  const slotsInUse = () => ({ general: pools.general.used, sse: pools.sse.used });
  return { middlewares, slotsInUse, ...shared };
}
