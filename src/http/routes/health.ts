/** Reachability: `/api/health` (open), `/api/gateway/ping` and `/api/gateway/me` (authenticated). */
import { createRoute, z } from "@hono/zod-openapi";
import type { App, Principal } from "../env.ts";
import { HttpError } from "../errors.ts";
import type { Gateway } from "../../gateway.ts";
import { nowIso } from "../../util/time.ts";
import { errorResponses, gatewayRoute, jsonContent } from "../schemas/common.ts";

const Health = z.object({ status: z.literal("healthy"), service: z.literal("abstractgateway") });

const health = createRoute({
  method: "get",
  path: "/api/health",
  tags: ["health"],
  summary: "Liveness probe (no authentication)",
  responses: { 200: jsonContent(Health, "The server is up") },
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

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The legacy-token principal (§3.3). Used when the security middleware did not put a principal in
 * the context: a configured bearer token, or security explicitly disabled.
 */
async function legacyPrincipal(gw: Gateway, authorization: string | undefined): Promise<Principal | null> {
  const m = /^bearer\s+(.+)$/i.exec(authorization?.trim() ?? "");
  const token = m?.[1].trim();
  const known = token !== undefined && gw.config.authTokens.includes(token);
  if (!known && gw.config.security) return null;
  return {
    user_id: "local-admin",
    tenant_id: "local",
    roles: ["admin", "user"],
    scopes: ["*"],
    token_fingerprint: known ? (await sha256Hex(token)).slice(0, 12) : null,
    runtime_id: "local-admin",
    source: "legacy-token",
    admin: true,
  };
}

export function registerHealthRoutes(app: App, gw: Gateway): void {
  app.openapi(
    health,
    (c) => c.json({ status: "healthy" as const, service: "abstractgateway" as const }, 200),
  );

  app.openapi(
    ping,
    (c) =>
      c.json(
        { ok: true as const, status: "healthy" as const, service: "abstractgateway", time: nowIso() },
        200,
      ),
  );

  app.openapi(me, async (c) => {
    const principal = c.get("principal") ?? await legacyPrincipal(gw, c.req.header("authorization"));
    if (!principal) throw new HttpError(401, "Gateway principal unavailable");
    return c.json({
      ok: true as const,
      principal,
      auth: { mode: "legacy-token", user_auth_enabled: false },
      routing: { mode: "single-user", one_user_one_runtime: false },
    }, 200);
  });
}
