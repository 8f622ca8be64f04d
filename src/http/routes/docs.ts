/** `/openapi.json` (generated from the route schemas, computed once) and the offline `/docs` page. */
import type { App } from "../env.ts";
import { DOCS_HTML } from "./docs_page.ts";
import { VERSION } from "../../cli/version.ts";

const API_TITLE = "AbstractGateway";
/** The upstream AbstractGateway version whose contract we implement (reported by discovery). */
export const API_VERSION = "0.2.27";
const DESCRIPTION = "Durable Run Gateway for AbstractRuntime (commands + ledger replay/stream).";

/** Only inline script/style from this page itself: nothing is loaded from elsewhere. */
const DOCS_CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'";

type Doc = ReturnType<App["getOpenAPI31Document"]>;
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"] as const;

/**
 * Gives every operation without one an operationId derived from its method and path, e.g.
 * `GET /api/gateway/runs/{run_id}/ledger` → `getRunsByRunIdLedger` (unique: method + path are).
 */
export function withOperationIds(doc: Doc): Doc {
  const camel = (word: string) => word.replace(/[_.-](\w)/g, (_, ch: string) => ch.toUpperCase());
  const cap = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    const words = path.replace(/^\/api(\/gateway)?/, "").split("/").filter(Boolean)
      .map((seg) => seg.startsWith("{") ? `By${cap(camel(seg.slice(1, -1)))}` : cap(camel(seg)));
    for (const method of METHODS) {
      const op = item?.[method];
      if (op && !op.operationId) op.operationId = method + (words.join("") || "Root");
    }
  }
  return doc;
}

/** Registers the document routes; call after every API route is registered. */
export function registerDocRoutes(app: App): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "gatewayBearerAuth", {
    type: "http",
    scheme: "bearer",
  });
  let cached: string | null = null;
  app.get("/openapi.json", (c) => {
    cached ??= JSON.stringify(withOperationIds(app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: { title: API_TITLE, version: VERSION, description: DESCRIPTION },
      // Relative: the document describes whichever gateway serves it (and /docs calls it offline).
      servers: [{ url: "/", description: "This gateway" }],
    })));
    return c.body(cached, 200, { "Content-Type": "application/json" });
  });
  for (const path of ["/docs", "/redoc"]) {
    app.get(path, (c) => c.html(DOCS_HTML, 200, { "Content-Security-Policy": DOCS_CSP }));
  }
}
