/**
 * The HTTP application: `/api/health`, `/openapi.json`, `/docs` and every `/api/gateway/*` route,
 * with one error shape, request ids on every response, and the security middlewares (given by the
 * caller) in front of `/api/gateway/*`.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { Gateway } from "../gateway.ts";
import type { App, AppEnv } from "./env.ts";
import { onError, onNotFound, validationHook } from "./errors.ts";
import { frontMiddleware } from "./front.ts";
import { inputGuard } from "./input_guard.ts";
import { methodNotAllowed } from "./methods.ts";
import { registerArtifactRoutes } from "./routes/artifacts.ts";
import { registerAttachmentRoutes } from "./routes/attachments.ts";
import { registerBundleAdminRoutes } from "./routes/bundle_admin.ts";
import { registerBundleReadRoutes } from "./routes/bundles.ts";
import { registerCommandRoutes } from "./routes/commands.ts";
import { registerDiscoveryRoutes } from "./routes/discovery.ts";
import { registerDocRoutes } from "./routes/docs.ts";
import { registerHealthRoutes } from "./routes/health.ts";
import { registerLedgerRoutes } from "./routes/ledger.ts";
import { registerRunStartRoutes } from "./routes/run_start.ts";
import { registerPurgeRoute, registerRunReadRoutes } from "./routes/runs.ts";
import { registerScheduleRoutes } from "./routes/schedule.ts";
import { registerStreamRoutes } from "./routes/stream.ts";

export interface AppOptions {
  /** Middlewares for `/api/gateway/*` (auth, origin, lockout, limits, audit), in order. */
  // deno-lint-ignore no-explicit-any
  security?: MiddlewareHandler<any>[];
  /** App-wide CORS layer (outermost after the request id), e.g. `corsMiddleware(config)`. */
  // deno-lint-ignore no-explicit-any
  cors?: MiddlewareHandler<any>;
  /** App-wide middleware that must see every request first (e.g. request metrics). */
  // deno-lint-ignore no-explicit-any
  outermost?: MiddlewareHandler<any>;
  /** Aborting it ends every open SSE stream (before a graceful server shutdown). */
  shutdown?: AbortSignal;
}

export function createApp(gw: Gateway, options: AppOptions = {}): App {
  const app: App = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.onError(onError);
  app.notFound(methodNotAllowed(app, onNotFound));
  if (options.outermost) app.use("*", options.outermost);
  app.use("*", frontMiddleware(app));
  if (options.cors) app.use("*", options.cors);
  for (const mw of options.security ?? []) app.use("/api/gateway/*", mw);
  app.use("/api/gateway/*", inputGuard);
  app.get("/", (c) => c.redirect("/docs", 307));

  registerHealthRoutes(app, gw);
  registerBundleReadRoutes(app, gw);
  registerBundleAdminRoutes(app, gw);
  registerRunStartRoutes(app, gw);
  registerScheduleRoutes(app, gw);
  registerPurgeRoute(app, gw);
  registerRunReadRoutes(app, gw);
  registerLedgerRoutes(app, gw);
  registerStreamRoutes(app, gw, options.shutdown);
  registerCommandRoutes(app, gw);
  registerArtifactRoutes(app, gw);
  registerAttachmentRoutes(app, gw);
  registerDiscoveryRoutes(app, gw);
  registerDocRoutes(app);
  return app;
}
