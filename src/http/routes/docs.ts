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

/** Registers the document routes; call after every API route is registered. */
export function registerDocRoutes(app: App): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "gatewayBearerAuth", {
    type: "http",
    scheme: "bearer",
  });
  let cached: string | null = null;
  app.get("/openapi.json", (c) => {
    cached ??= JSON.stringify(app.getOpenAPIDocument({
      openapi: "3.0.3",
      info: { title: API_TITLE, version: VERSION, description: DESCRIPTION },
    }));
    return c.body(cached, 200, { "Content-Type": "application/json" });
  });
  for (const path of ["/docs", "/redoc"]) {
    app.get(path, (c) => c.html(DOCS_HTML, 200, { "Content-Security-Policy": DOCS_CSP }));
  }
}
