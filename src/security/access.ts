/**
 * Access stage: origin allow-list, lockout, bearer-token authentication, principal, admin-only routes —
 * in the order of the gateway contract (§4.2). Without a bearer token, a console session cookie
 * authenticates too; its state-changing requests must carry the session's CSRF token.
 */
import type { Context } from "hono";
import type { Config } from "../config/config.ts";
import { originAllowed } from "./glob.ts";
import { isLoopbackAddress, type Lockout } from "./lockout.ts";
import { anonymous, consoleSessionAdmin, loopbackReadonly, type Principal, tokenAdmin } from "./principal.ts";
import {
  adminRequired,
  csrfForbidden,
  lockedOut,
  noTokenConfigured,
  originForbidden,
  unauthorized,
} from "./responses.ts";
import { CSRF_HEADER, sameSecret, sessionCookie, type SessionStore } from "./sessions.ts";
import { adminResourceClass } from "./routes.ts";
import type { RequestSecurity, SecurityEnv } from "./state.ts";
import { bearerToken, type TokenVerifier } from "./tokens.ts";

export interface AccessDeps {
  lockout: Lockout;
  verifier: TokenVerifier;
  /** Console sessions (cookie auth); without it only bearer tokens authenticate. */
  sessions?: SessionStore;
}

function authRequired(config: Config, state: RequestSecurity): boolean {
  if (state.kind === "write") return config.protectWrite;
  if (state.kind === "read") {
    return config.protectRead && !(config.devReadNoAuth && isLoopbackAddress(state.ip));
  }
  return false;
}

/** The principal of a caller that presented no token where none is required. */
function tokenlessPrincipal(config: Config, state: RequestSecurity): Principal {
  if (state.kind === "read" && config.protectRead && config.devReadNoAuth) return loopbackReadonly();
  return anonymous({ read: !config.protectRead, write: !config.protectWrite });
}

/**
 * Decides a request's access: the rejection to answer with, or null (the principal is then set on
 * `state` and the context). Synchronous: token checks hash in place, so the fused security stage
 * (middleware.ts) runs it without an await.
 */
export type AccessCheck = (c: Context<SecurityEnv>, state: RequestSecurity) => Response | null;

export function accessCheck(config: Config, deps: AccessDeps): AccessCheck {
  const { lockout, verifier, sessions } = deps;
  const failAuth = (state: RequestSecurity): Response => {
    state.denied = true;
    const lockS = lockout.fail(state.ip);
    return lockS > 0 ? lockedOut(lockS) : unauthorized();
  };
  return (c, state) => {
    const origin = c.req.header("origin");
    if (origin && !originAllowed(origin, config.allowedOrigins)) {
      state.denied = true;
      return originForbidden();
    }
    const wait = lockout.retryAfterS(state.ip);
    if (wait > 0) {
      state.denied = true;
      return lockedOut(wait);
    }
    state.authRequired = authRequired(config, state);
    if (state.authRequired && verifier.count === 0) return noTokenConfigured();

    const presented = bearerToken(c.req.header("authorization"));
    const session = presented === null ? sessions?.get(sessionCookie(c)) ?? null : null;
    let principal: Principal;
    // A presented token is always checked, even where none is required: a wrong token is an error the
    // caller must see, and a right one makes the caller an admin on open deployments too.
    if (presented !== null && verifier.count > 0) {
      const { valid, fingerprint } = verifier.inspect(presented);
      state.tokenFp = fingerprint;
      if (!valid) return failAuth(state);
      lockout.succeed(state.ip);
      principal = tokenAdmin(fingerprint);
    } else if (session) {
      if (state.kind === "write" && !sameSecret(c.req.header(CSRF_HEADER) ?? "", session.csrf)) {
        state.denied = true;
        return csrfForbidden();
      }
      state.tokenFp = session.tokenFp;
      principal = consoleSessionAdmin(session.tokenFp);
    } else if (state.authRequired) {
      return failAuth(state);
    } else {
      principal = tokenlessPrincipal(config, state);
    }
    state.principal = principal;
    c.set("principal", principal);

    const resourceClass = adminResourceClass(c.req.path, state.kind === "write");
    if (resourceClass && !principal.admin) {
      state.denied = true;
      return adminRequired(resourceClass, state.kind === "write" ? "write" : "read");
    }
    return null;
  };
}
