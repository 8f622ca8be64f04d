/**
 * CORS for the whole app, restricted to the origin allow-list. Preflights from allowed origins are
 * answered here (204); from other origins they get 403. Actual responses to allowed origins echo the
 * origin and expose the headers clients need to read rejections (401/403/429 bodies, Retry-After,
 * X-Request-Id). Requests without Origin, or from disallowed origins, get no CORS headers.
 */
import type { MiddlewareHandler } from "hono";
import type { Config } from "../config/config.ts";
import { originAllowed } from "./glob.ts";
import { originForbidden } from "./responses.ts";

const ALLOW_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
const DEFAULT_ALLOW_HEADERS = "Authorization, Content-Type, X-Request-Id, Last-Event-ID";
const EXPOSE_HEADERS = "X-Request-Id, Retry-After, WWW-Authenticate, Content-Disposition, Content-Length";
const HEADER_LIST = /^\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*\s*$/;

export function corsMiddleware(config: Config): MiddlewareHandler {
  return async (c, next) => {
    const origin = c.req.header("origin");
    if (!origin) return await next();
    const allowed = originAllowed(origin, config.allowedOrigins);
    if (c.req.method === "OPTIONS" && c.req.header("access-control-request-method")) {
      if (!allowed) return originForbidden();
      const requested = c.req.header("access-control-request-headers") ?? "";
      return new Response(null, {
        status: 204,
        headers: {
          "access-control-allow-origin": origin,
          "access-control-allow-methods": ALLOW_METHODS,
          "access-control-allow-headers": HEADER_LIST.test(requested)
            ? requested.trim()
            : DEFAULT_ALLOW_HEADERS,
          "access-control-allow-credentials": "true",
          "access-control-max-age": "600",
          "vary": "Origin",
        },
      });
    }
    await next();
    c.header("Vary", "Origin", { append: true });
    if (!allowed) return;
    c.header("Access-Control-Allow-Origin", origin);
    c.header("Access-Control-Allow-Credentials", "true");
    c.header("Access-Control-Expose-Headers", EXPOSE_HEADERS);
  };
}
