/**
 * The standalone runner's own HTTP listener (`gateway runner --metrics-port N`): its metrics (the
 * command outcomes and ledger appends it does), liveness and readiness. Nothing else is served.
 */
import { Hono } from "hono";
import type { Gateway } from "../gateway.ts";
import { readiness } from "../http/readiness.ts";
import { bearerCheck, metricsRoute } from "./http.ts";

export function runnerHttpApp(gw: Gateway, tokens: readonly string[]): Hono {
  const app = new Hono();
  app.get("/api/health", (c) => c.json({ status: "healthy", service: "abstractgateway", role: "runner" }));
  app.get("/api/health/ready", async (c) => {
    const result = await readiness(gw);
    return c.json(result, result.status === "ready" ? 200 : 503);
  });
  app.route("/", metricsRoute(gw.metrics, { open: gw.config.metricsOpen, authCheck: bearerCheck(tokens) }));
  return app;
}
