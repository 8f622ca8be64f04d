/**
 * The standalone runner's own HTTP listener (`gateway runner --metrics-port N`): its metrics (the
 * command outcomes and ledger appends it does), liveness and readiness; nothing else. Plain
 * `Deno.serve` handler, so the runner's module graph stays free of the HTTP framework.
 */
import type { Gateway } from "../gateway.ts";
import { readiness } from "../runner/readiness.ts";
import { TokenVerifier } from "../security/tokens.ts";
import { CONTENT_TYPE } from "./registry.ts";

const json = (body: unknown, status = 200) => Response.json(body, { status });

export function runnerHttpHandler(
  gw: Gateway,
  tokens: readonly string[],
): (req: Request) => Promise<Response> {
  const verifier = new TokenVerifier(tokens);
  return async (req) => {
    const path = new URL(req.url).pathname;
    if (req.method !== "GET") return json({ detail: "Method Not Allowed" }, 405);
    if (path === "/api/health") {
      return json({ status: "healthy", service: "abstractgateway", role: "runner" });
    }
    if (path === "/api/health/ready") {
      const result = await readiness(gw);
      return json(result, result.status === "ready" ? 200 : 503);
    }
    if (path !== "/metrics") return json({ detail: "Not Found" }, 404);
    if (!gw.config.metricsOpen && !(await verifier.verifyHeader(req.headers.get("authorization")))) {
      return Response.json({ detail: "Unauthorized" }, {
        status: 401,
        headers: { "WWW-Authenticate": "Bearer" },
      });
    }
    return new Response(await gw.metrics.render(), { headers: { "content-type": CONTENT_TYPE } });
  };
}
