/**
 * Reachability: `/api/health` (liveness) and `/api/health/ready` (readiness), both open;
 * `/api/gateway/ping` and `/api/gateway/me` (authenticated).
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../env.ts";
import { HttpError } from "../errors.ts";
import { nowIso } from "../../util/time.ts";
import type { Gateway } from "../../gateway.ts";
import { readiness } from "../../runner/readiness.ts";
import { errorResponses, gatewayRoute, jsonContent } from "../schemas/common.ts";

const Health = z.object({ status: z.literal("healthy"), service: z.literal("abstractgateway") });

const health = createRoute({
  method: "get",
  path: "/api/health",
  tags: ["health"],
  summary: "Liveness probe (no authentication)",
  security: [],
  responses: { 200: jsonContent(Health, "The server is up") },
});

const Check = z.object({ ok: z.boolean(), detail: z.string() });
const RunnerSeen = z.object({
  runner_id: z.string(),
  host: z.string().openapi({ description: "The runner's address as PostgreSQL sees its connection" }),
  pid: z.number().int(),
  started_at: z.string(),
  last_seen: z.string(),
  age_ms: z.number().int(),
}).openapi("RunnerSeen");
const RunnerCheck = Check.extend({
  runners: z.array(RunnerSeen).optional().openapi({
    description: "PostgreSQL store only: every runner (on any machine) whose heartbeat is fresh",
  }),
});
const Readiness = z.object({
  status: z.enum(["ready", "not_ready"]),
  failing: z.array(z.enum(["store", "runner", "bundles"])),
  checks: z.object({ store: Check, runner: RunnerCheck, bundles: Check }),
}).openapi("Readiness");

const ready = createRoute({
  method: "get",
  path: "/api/health/ready",
  tags: ["health"],
  summary: "Readiness probe (no authentication): store writable, runner heartbeat fresh, bundles loaded",
  security: [],
  responses: {
    200: jsonContent(Readiness, "Ready"),
    503: jsonContent(Readiness, "Not ready; `failing` names the parts"),
  },
});

const ping = gatewayRoute({
  method: "get",
  path: "/ping",
  tags: ["health"],
  summary: "Authenticated reachability probe (use this as a login check)",
  responses: {
    200: jsonContent(
      z.object({ ok: z.literal(true), status: z.literal("healthy"), service: z.string(), time: z.string() }),
      "Authenticated and reachable",
    ),
    ...errorResponses(),
  },
});

const PrincipalSchema = z.object({
  user_id: z.string(),
  tenant_id: z.string(),
  roles: z.array(z.string()),
  scopes: z.array(z.string()),
  token_fingerprint: z.string().nullable(),
  runtime_id: z.string(),
  source: z.string(),
  admin: z.boolean(),
});

const me = gatewayRoute({
  method: "get",
  path: "/me",
  tags: ["health"],
  summary: "The authenticated principal",
  responses: {
    200: jsonContent(
      z.object({
        ok: z.literal(true),
        principal: PrincipalSchema,
        auth: z.object({ mode: z.string(), user_auth_enabled: z.boolean() }),
        routing: z.object({ mode: z.string(), one_user_one_runtime: z.boolean() }),
      }),
      "Who the caller is",
    ),
    ...errorResponses(),
  },
});

export function registerHealthRoutes(app: App, gw: Gateway): void {
  app.openapi(
    health,
    (c) => c.json({ status: "healthy" as const, service: "abstractgateway" as const }, 200),
  );

  app.openapi(ready, async (c) => {
    const result = await readiness(gw);
    return result.status === "ready" ? c.json(result, 200) : c.json(result, 503);
  });

  app.openapi(
    ping,
    (c) =>
      c.json(
        { ok: true as const, status: "healthy" as const, service: "abstractgateway", time: nowIso() },
        200,
      ),
  );

  app.openapi(me, (c) => {
    // Set by the security pipeline (also when security is switched off); never present without it.
    const principal = c.get("principal");
    if (!principal) throw new HttpError(401, "Gateway principal unavailable");
    return c.json({
      ok: true as const,
      principal,
      auth: { mode: "legacy-token", user_auth_enabled: false },
      routing: { mode: "single-user", one_user_one_runtime: false },
    }, 200);
  });
}
