/**
 * 405 Method Not Allowed (with `Allow`) for a path that exists under another method, instead of 404;
 * and methods no route serves (TRACE, CONNECT, anything unknown) are answered 405 before any other
 * middleware touches the request (the Fetch API refuses to build a Request for TRACE).
 */
import type { Context, NotFoundHandler } from "hono";
import type { App, AppEnv } from "./env.ts";

const SERVED = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

interface RouteTable {
  size: number;
  routes: { pattern: RegExp; method: string }[];
}

function compile(path: string): RegExp {
  const body = path.split("/").map((part) =>
    part.startsWith(":") ? "[^/]+" : part === "*" ? ".*" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
  ).join("/");
  return new RegExp(`^${body}/?$`);
}

/** The methods `app` serves at `path` (HEAD with GET, OPTIONS for CORS preflight). */
export function methodsFor(app: App): (path: string) => string[] {
  let table: RouteTable = { size: -1, routes: [] };
  return (path) => {
    if (table.size !== app.routes.length) {
      table = {
        size: app.routes.length,
        routes: app.routes.filter((r) => r.method !== "ALL").map((r) => ({
          pattern: compile(r.path),
          method: r.method.toUpperCase(),
        })),
      };
    }
    const methods = new Set(table.routes.filter((r) => r.pattern.test(path)).map((r) => r.method));
    if (methods.has("GET")) methods.add("HEAD");
    if (methods.size > 0) methods.add("OPTIONS");
    return [...methods].sort();
  };
}

function notAllowed(method: string, allow: string[]): Response {
  const headers = {
    "content-type": "application/json",
    ...(allow.length > 0 ? { Allow: allow.join(", ") } : {}),
  };
  return new Response(JSON.stringify({ detail: `Method ${method} not allowed` }), { status: 405, headers });
}

/** A 405 for a method no route serves (answered before anything else touches the request), else null. */
export function unservedMethod(app: App): (c: Context<AppEnv>) => Response | null {
  const allowed = methodsFor(app);
  return (c) => SERVED.has(c.req.method) ? null : notAllowed(c.req.method, allowed(c.req.path));
}

/** notFound handler: 405 when the path exists under other methods, else `fallback`. */
export function methodNotAllowed(app: App, fallback: NotFoundHandler<AppEnv>): NotFoundHandler<AppEnv> {
  const allowed = methodsFor(app);
  return (c) => {
    const allow = allowed(c.req.path);
    return allow.length > 0 ? notAllowed(c.req.method, allow) : fallback(c);
  };
}
