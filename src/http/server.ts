/**
 * The complete gateway application as served: the API of createApp behind the security pipeline and
 * CORS, plus request metrics and `GET /metrics`, the audit tail route, and the operator tooling routes
 * (which answer 404 unless tooling is enabled). `serve`, the e2e-style tests and the bench build it here.
 */
import type { Gateway } from "../gateway.ts";
import type { Context } from "hono";
import { metricsMiddleware, metricsRoute } from "../metrics/http.ts";
import type { AuditLog } from "../security/audit.ts";
import { registerAuditRoutes } from "../security/audit_routes.ts";
import { corsMiddleware } from "../security/cors.ts";
import { clientAddress } from "../security/lockout.ts";
import { securityMiddleware } from "../security/middleware.ts";
import { toolingRoutes } from "../tooling/routes.ts";
import { registerConsoleRoutes } from "../console/routes.tsx";
import { createApp } from "./app.ts";
import { streamsStopped } from "./routes/stream.ts";
import type { App } from "./env.ts";

export interface GatewayServer {
  app: App;
  /** The audit log the security pipeline appends to. */
  audit: AuditLog;
  /** Serve with `Deno.serve(opts, (req, info) => server.fetch(req, info))` so lockout and audit see the peer. */
  fetch(req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Response | Promise<Response>;
  /** Ends every open SSE stream (clients resume from their cursor); call before `server.shutdown()`. */
  endStreams(): void;
  /** Waits for the SSE hubs' store reads, stops declared tooling processes and flushes the audit log. */
  close(): Promise<void>;
}

export function createGatewayServer(gw: Gateway): GatewayServer {
  const { config } = gw;
  const security = securityMiddleware(config);
  gw.metrics.slotsFrom(security.slotsInUse);
  const tooling = toolingRoutes({ config, dataDir: config.dataDir });
  const shutdown = new AbortController();
  const app = createApp(gw, {
    outermost: metricsMiddleware(gw.metrics),
    cors: corsMiddleware(config),
    security: security.middlewares,
    shutdown: shutdown.signal,
  });
  registerAuditRoutes(app, security.audit);
  registerConsoleRoutes(app, { config, ...security });
  app.route("/api/gateway", tooling.app);
  // /metrics failures count toward the same lockout as the API's (no unlimited token guessing there).
  const authCheck = async (c: Context) => {
    const ip = clientAddress(c, config.trustProxy);
    if (security.lockout.retryAfterS(ip)) return false;
    const ok = await security.verifier.verifyHeader(c.req.header("authorization"));
    if (ok) security.lockout.succeed(ip);
    else security.lockout.fail(ip);
    return ok;
  };
  app.route("/", metricsRoute(gw.metrics, { open: config.metricsOpen || !config.security, authCheck }));
  return {
    app,
    audit: security.audit,
    fetch: (req, info) => app.fetch(req, { info }),
    endStreams: () => shutdown.abort(),
    async close() {
      shutdown.abort();
      await streamsStopped(shutdown.signal);
      await tooling.close();
      await security.close();
    },
  };
}
