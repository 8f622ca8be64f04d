/**
 * The app-wide front layer, in one middleware (each Hono layer costs a dispatch, a closure and an
 * await on every request): unserved methods answered 405 at once, the request id set and sent back on
 * every response, and the access log line.
 */
import type { MiddlewareHandler } from "hono";
import type { App, AppEnv } from "./env.ts";
import { logRequest } from "./access_log.ts";
import { unservedMethod } from "./methods.ts";
import { requestIdFrom } from "./request_id.ts";

export function frontMiddleware(app: App): MiddlewareHandler<AppEnv> {
  const unserved = unservedMethod(app);
  return async (c, next) => {
    const started = performance.now();
    const refused = unserved(c);
    if (refused) {
      c.res = refused;
      return;
    }
    const id = requestIdFrom(c.req.header("x-request-id"));
    c.set("requestId", id);
    c.header("X-Request-Id", id);
    await next();
    if (!c.res.headers.has("X-Request-Id")) {
      // Responses built outside the context (e.g. by a middleware) still carry the id.
      c.res = new Response(c.res.body, c.res);
      c.res.headers.set("X-Request-Id", id);
    }
    logRequest(c, started);
  };
}
