/** HTTP side of the metrics: a timing middleware and the `GET /metrics` route. */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { GatewayMetrics } from "./gateway_metrics.ts";
import { CONTENT_TYPE } from "./registry.ts";
import { onBodyEnd } from "../security/limits.ts";

/** Label for requests no endpoint matched (keeps random paths out of the label set). */
export const UNMATCHED_ROUTE = "unmatched";

/**
 * Times every request and records it under its route pattern. Register it first (outermost) so
 * security rejections and errors are counted too; the pattern is that of the endpoint the request
 * matched, even when a middleware answered before it ran. Streams (`text/event-stream`) are timed to
 * their response headers, and counted in `gateway_sse_streams_open` until their body ends or the
 * client goes away, so the SSE route itself needs no metrics code.
 */
export function metricsMiddleware(metrics: GatewayMetrics): MiddlewareHandler {
  return async (c, next) => {
    const start = performance.now();
    try {
      await next();
    } finally {
      const seconds = (performance.now() - start) / 1000;
      metrics.observeRequest(c.req.method, routeLabel(c), c.res.status, seconds);
    }
    // The type first: reading `body` turns a string or bytes body into a JS stream, which Deno then
    // serves through its slow streaming path.
    const type = c.res.headers.get("content-type") ?? "";
    if (type.toLowerCase().startsWith("text/event-stream") && c.res.body) {
      // One `gateway_sse_streams_open` slot until the body ends, fails or is cancelled.
      metrics.sseOpened();
      c.res = onBodyEnd(c.res, () => metrics.sseClosed());
    }
  };
}

function routeLabel(c: Context): string {
  const endpoint = matchedRoutes(c).findLast((r) => r.method !== "ALL");
  return endpoint?.path ?? UNMATCHED_ROUTE;
}

export interface MetricsRouteOptions {
  /** Serve without authentication (ABSTRACTGATEWAY_METRICS_OPEN). */
  open: boolean;
  /** Decides whether a request may read metrics when not open (e.g. a bearer token check). */
  authCheck?: (c: Context) => boolean | Promise<boolean>;
}

/** A Hono app with `GET /metrics`; protected like the API unless `open`. */
export function metricsRoute(metrics: GatewayMetrics, options: MetricsRouteOptions): Hono {
  const app = new Hono();
  app.get("/metrics", async (c) => {
    if (!options.open && !(await options.authCheck?.(c))) {
      return c.json({ detail: "Unauthorized" }, 401, { "WWW-Authenticate": "Bearer" });
    }
    return c.body(await metrics.render(), 200, { "content-type": CONTENT_TYPE });
  });
  return app;
}
