/**
 * One JSON log line per request (`component: "http"`), carrying the request id clients see in X-Request-Id
 * and the socket peer (the real client behind the connection front; a reverse proxy's address behind one).
 */
import type { Context } from "hono";
import { clientAddress } from "../security/lockout.ts";
import { logger, logs } from "../util/log.ts";
import type { AppEnv } from "./env.ts";

const log = logger("http");

/** Logs the request answered by `c` (called when the response starts: a stream's lifetime is not timed). */
export function logRequest(c: Context<AppEnv>, started: number): void {
  if (!logs("info")) return;
  log.info("request", {
    request_id: c.get("requestId"),
    method: c.req.method,
    path: c.req.path,
    status: c.res.status,
    peer: clientAddress(c, false),
    duration_ms: Math.round((performance.now() - started) * 10) / 10,
  });
}
