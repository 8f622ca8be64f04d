/** @jsxImportSource hono/jsx */
/**
 * The run console under `/console`: sign-in and sign-out (server-side sessions, see
 * security/sessions.ts), the server-rendered pages, and the console's own script and stylesheet.
 * Pages need a session; everything they show comes from the public `/api/gateway/*` API, which
 * accepts the session cookie (with a CSRF token for writes) exactly like a bearer token.
 */
import type { Context } from "hono";
import type { App, AppEnv } from "../http/env.ts";
import type { Child } from "hono/jsx";
import type { Config } from "../config/config.ts";
import { isoUtc } from "../util/time.ts";
import type { AuditLog } from "../security/audit.ts";
import { originAllowed } from "../security/glob.ts";
import { clientAddress, type Lockout } from "../security/lockout.ts";
import { originForbidden } from "../security/responses.ts";
import {
  type ConsoleSession,
  overTls,
  sameSecret,
  sessionCookie,
  sessionCookieHeader,
  type SessionStore,
} from "../security/sessions.ts";
import type { TokenVerifier } from "../security/tokens.ts";
import { consoleAsset } from "./assets.ts";
import {
  BundlesBody,
  Frame,
  HealthBody,
  LoginPage,
  type PageName,
  RunBody,
  RunsBody,
  SchedulesBody,
  StartBody,
} from "./pages.tsx";
import { CONSOLE_BASE } from "./paths.ts";

export interface ConsoleDeps {
  config: Config;
  sessions: SessionStore;
  lockout: Lockout;
  verifier: TokenVerifier;
  audit: AuditLog;
}

/** Pages never load anything from elsewhere; scripts and styles come only from the console itself. */
const PAGE_HEADERS: Record<string, string> = {
  "content-security-policy": "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; " +
    "style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; " +
    "form-action 'self'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  // Not no-referrer: with it Chromium sends `Origin: null` on form posts, which the allow-list refuses.
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
  "cache-control": "no-store",
};

const MAX_FORM_BYTES = 8192;

/**
 * The url-encoded form of a sign-in/sign-out post, read up to MAX_FORM_BYTES (these routes are outside the
 * API's body limit and answer anyone), or null when the body is larger.
 */
async function readSmallForm(req: Request): Promise<URLSearchParams | null> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body ?? []) {
    size += chunk.byteLength;
    if (size > MAX_FORM_BYTES) return null;
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) bytes.set(chunk, (at += chunk.byteLength) - chunk.byteLength);
  return new URLSearchParams(new TextDecoder().decode(bytes));
}

const tooLarge = (c: Context<AppEnv>) =>
  c.json({ detail: `Payload Too Large (limit ${MAX_FORM_BYTES} bytes)` }, 413);

function html(c: Context<AppEnv>, body: Child, status = 200): Response {
  return c.html("<!doctype html>" + String(body), status as 200, PAGE_HEADERS);
}

/** A same-site path inside the console to return to after sign-in (anything else → the runs list). */
function safeNext(next: unknown): string {
  return typeof next === "string" && next.startsWith(`${CONSOLE_BASE}/`) && !next.startsWith("//") &&
      !next.includes("\\")
    ? next
    : `${CONSOLE_BASE}/runs`;
}

export function registerConsoleRoutes(app: App, deps: ConsoleDeps): void {
  const { config, sessions, lockout, verifier, audit } = deps;
  const secure = (c: Context<AppEnv>) => overTls(c, config.trustProxy);

  const auditSignIn = (c: Context<AppEnv>, status: number, tokenFp?: string, error?: string) => {
    if (!config.auditLog) return;
    audit.record({
      ts: isoUtc(new Date()),
      request_id: c.get("requestId") ?? crypto.randomUUID().replaceAll("-", ""),
      ip: clientAddress(c, config.trustProxy),
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      query: "",
      status,
      duration_ms: 0,
      auth_required: true,
      auth_token_fp: tokenFp,
      origin: c.req.header("origin"),
      user_agent: c.req.header("user-agent"),
      error,
    });
  };

  /** The signed-in session, or null (with security off every visitor counts as signed in). */
  const currentSession = (c: Context<AppEnv>): ConsoleSession | null | "open" =>
    config.security ? sessions.get(sessionCookie(c)) : "open";

  const page = (
    name: PageName,
    title: string,
    body: () => Child,
    data?: (c: Context<AppEnv>) => Record<string, string>,
  ) =>
  (c: Context<AppEnv>) => {
    const session = currentSession(c);
    if (!session) {
      const next = new URL(c.req.url).pathname;
      return c.redirect(`${CONSOLE_BASE}/login?next=${encodeURIComponent(next)}`, 303);
    }
    const csrf = session === "open" ? "" : session.csrf;
    return html(c, <Frame page={name} title={title} csrf={csrf} data={data?.(c)}>{body()}</Frame>);
  };

  app.get(CONSOLE_BASE, (c) => c.redirect(`${CONSOLE_BASE}/runs`, 303));
  app.get(`${CONSOLE_BASE}/`, (c) => c.redirect(`${CONSOLE_BASE}/runs`, 303));
  app.get(`${CONSOLE_BASE}/runs`, page("runs", "Runs", RunsBody));
  app.get(
    `${CONSOLE_BASE}/runs/:run_id`,
    page("run", "Run", RunBody, (c) => ({ "run-id": c.req.param("run_id") ?? "" })),
  );
  app.get(`${CONSOLE_BASE}/start`, page("start", "Start a run", StartBody));
  app.get(`${CONSOLE_BASE}/bundles`, page("bundles", "Bundles", BundlesBody));
  app.get(`${CONSOLE_BASE}/schedules`, page("schedules", "Schedules", SchedulesBody));
  app.get(`${CONSOLE_BASE}/health`, page("health", "Health", HealthBody));

  app.get(`${CONSOLE_BASE}/login`, (c) => {
    if (currentSession(c)) return c.redirect(safeNext(c.req.query("next")), 303);
    return html(c, <LoginPage next={safeNext(c.req.query("next"))} />);
  });

  app.post(`${CONSOLE_BASE}/login`, async (c) => {
    const origin = c.req.header("origin");
    if (origin && !originAllowed(origin, config.allowedOrigins)) {
      auditSignIn(c, 403, undefined, "origin not allowed");
      return originForbidden();
    }
    const ip = clientAddress(c, config.trustProxy);
    const wait = lockout.retryAfterS(ip);
    const retry = (s: number) => {
      const error = `Too many failed sign-ins; try again in ${s} s.`;
      const res = html(c, <LoginPage next={`${CONSOLE_BASE}/runs`} error={error} />, 429);
      res.headers.set("retry-after", String(s));
      return res;
    };
    if (wait > 0) {
      auditSignIn(c, 429, undefined, "auth lockout");
      return retry(wait);
    }
    const form = await readSmallForm(c.req.raw);
    if (!form) return tooLarge(c);
    const next = safeNext(form.get("next"));
    if (!config.security) return c.redirect(next, 303);
    const token = form.get("token")?.trim() ?? "";
    const { valid, fingerprint } = verifier.inspect(token);
    if (!valid || verifier.count === 0) {
      const lockS = lockout.fail(ip);
      auditSignIn(c, lockS > 0 ? 429 : 401, token ? fingerprint : undefined, "console sign-in failed");
      if (lockS > 0) return retry(lockS);
      return html(c, <LoginPage next={next} error="That token is not valid." />, 401);
    }
    lockout.succeed(ip);
    const session = sessions.create(fingerprint);
    auditSignIn(c, 303, fingerprint);
    c.header("set-cookie", sessionCookieHeader(session, sessions.ttlS, secure(c)));
    return c.redirect(next, 303);
  });

  app.post(`${CONSOLE_BASE}/logout`, async (c) => {
    const origin = c.req.header("origin");
    if (origin && !originAllowed(origin, config.allowedOrigins)) return originForbidden();
    const session = sessions.get(sessionCookie(c));
    if (session) {
      const form = await readSmallForm(c.req.raw);
      if (!form) return tooLarge(c);
      const csrf = form.get("csrf") ?? c.req.header("x-csrf-token") ?? "";
      if (!sameSecret(csrf, session.csrf)) {
        return c.json({ detail: "Forbidden (CSRF token missing or wrong)", reason_code: "csrf" }, 403);
      }
      sessions.delete(session.id);
    }
    c.header("set-cookie", sessionCookieHeader(null, 0, secure(c)));
    return c.redirect(`${CONSOLE_BASE}/login`, 303);
  });

  app.get(
    `${CONSOLE_BASE}/assets/:name`,
    (c) =>
      consoleAsset(c.req.param("name") ?? "", c.req.header("accept-encoding"), c.req.header("if-none-match")),
  );
}
