/**
 * The caller of a request, stored by the security middleware as `c.set("principal", …)` and shown by
 * `GET /api/gateway/me`. In single-user (legacy token) mode every principal shares the one local runtime.
 */

export interface Principal {
  user_id: string;
  tenant_id: string;
  roles: string[];
  scopes: string[];
  /** First 12 hex of SHA-256 of the bearer token that authenticated the caller, if any. */
  token_fingerprint: string | null;
  runtime_id: string;
  /** How the principal was established: legacy-token | console-session | anonymous | dev-loopback |
   * security-disabled. */
  source: string;
  admin: boolean;
}

const RUNTIME_ID = "local-admin";

/** A holder of a configured bearer token: full admin. */
export function tokenAdmin(fingerprint: string): Principal {
  return {
    user_id: "local-admin",
    tenant_id: "local",
    roles: ["admin", "user"],
    scopes: ["*"],
    token_fingerprint: fingerprint,
    runtime_id: RUNTIME_ID,
    source: "legacy-token",
    admin: true,
  };
}

/** A console user signed in with a configured token (session cookie): the same admin as that token. */
export function consoleSessionAdmin(fingerprint: string): Principal {
  return { ...tokenAdmin(fingerprint), source: "console-session" };
}

/** Security switched off (isolated tests only): callers act as the local admin. */
export function securityDisabledAdmin(): Principal {
  return { ...tokenAdmin(""), token_fingerprint: null, source: "security-disabled" };
}

/**
 * A caller without a token where protection is switched off (PROTECT_READ=0 / PROTECT_WRITE=0): it gets
 * only the unprotected scopes and is never an admin.
 */
export function anonymous(scopes: { read: boolean; write: boolean }): Principal {
  return {
    user_id: "anonymous",
    tenant_id: "local",
    roles: ["anonymous"],
    scopes: [...(scopes.read ? ["gateway:read"] : []), ...(scopes.write ? ["gateway:write"] : [])],
    token_fingerprint: null,
    runtime_id: RUNTIME_ID,
    source: "anonymous",
    admin: false,
  };
}

/** A token-less read from a loopback client with DEV_READ_NO_AUTH=1. */
export function loopbackReadonly(): Principal {
  return {
    user_id: "loopback-readonly",
    tenant_id: "local",
    roles: ["readonly"],
    scopes: ["gateway:read"],
    token_fingerprint: null,
    runtime_id: RUNTIME_ID,
    source: "dev-loopback",
    admin: false,
  };
}
