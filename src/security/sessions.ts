/**
 * Browser sessions for the console: signing in with a gateway token creates a server-side session whose
 * id travels in an `HttpOnly; SameSite=Strict` cookie. Each session has its own CSRF token that every
 * state-changing request must echo in `X-CSRF-Token` (or the `csrf` form field). Sessions live in memory
 * (a restart signs everyone out), expire after `ttlS` seconds and are bounded in number.
 */
import type { Context } from "hono";

export const SESSION_COOKIE = "gateway_session";
export const CSRF_HEADER = "x-csrf-token";

export interface ConsoleSession {
  id: string;
  csrf: string;
  /** Fingerprint of the token that signed in. */
  tokenFp: string;
  expiresMs: number;
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Compares two strings without an early exit on the first differing character. */
export function sameSecret(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  }
  return diff === 0;
}

export class SessionStore {
  readonly #sessions = new Map<string, ConsoleSession>();

  constructor(
    readonly ttlS: number,
    readonly maxSessions = 10_000,
    readonly now: () => number = Date.now,
  ) {}

  create(tokenFp: string): ConsoleSession {
    const session = { id: randomId(), csrf: randomId(), tokenFp, expiresMs: this.now() + this.ttlS * 1000 };
    this.#sessions.set(session.id, session);
    while (this.#sessions.size > this.maxSessions) {
      this.#sessions.delete(this.#sessions.keys().next().value as string);
    }
    return session;
  }

  /** The live session with this id, or null (unknown or expired; expired ones are forgotten). */
  get(id: string | undefined): ConsoleSession | null {
    if (!id) return null;
    const session = this.#sessions.get(id);
    if (!session) return null;
    if (session.expiresMs <= this.now()) {
      this.#sessions.delete(id);
      return null;
    }
    return session;
  }

  delete(id: string): void {
    this.#sessions.delete(id);
  }

  get size(): number {
    return this.#sessions.size;
  }
}

/** The session id of the request's cookie header, or undefined. */
export function sessionCookie(c: Context): string | undefined {
  const header = c.req.header("cookie") ?? "";
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** True when the request reached us over TLS (directly, or via a trusted proxy's X-Forwarded-Proto). */
export function overTls(c: Context, trustProxy: boolean): boolean {
  if (new URL(c.req.url).protocol === "https:") return true;
  return trustProxy && c.req.header("x-forwarded-proto")?.split(",")[0]?.trim() === "https";
}

/** The Set-Cookie value that stores `session` (or clears the cookie when null). */
export function sessionCookieHeader(session: ConsoleSession | null, ttlS: number, secure: boolean): string {
  const attrs = ["Path=/", "HttpOnly", "SameSite=Strict", ...(secure ? ["Secure"] : [])];
  if (!session) return [`${SESSION_COOKIE}=`, ...attrs, "Max-Age=0"].join("; ");
  return [`${SESSION_COOKIE}=${session.id}`, ...attrs, `Max-Age=${ttlS}`].join("; ");
}
