/**
 * One JSON log line per request (`component: "http"`), carrying the request id clients see in X-Request-Id
 * and the socket peer (the real client behind the connection front; a reverse proxy's address behind one).
 */
import type { MiddlewareHandler } from "hono";
import { clientAddress } from "../security/lockout.ts";
import { logger } from "../util/log.ts";
import type { AppEnv } from "./env.ts";

const log = logger("http");

export const accessLog: MiddlewareHandler<AppEnv> = async (c, next) => {
  const started = performance.now();
  await next();
  // Logged when the response starts; a stream's lifetime is not part of the duration.
  log.info("request", {
    request_id: c.get("requestId"),
    method: c.req.method,
    path: c.req.path,
    status: c.res.status,
    peer: clientAddress(c, false),
    duration_ms: Math.round((performance.now() - started) * 10) / 10,
  });
};
