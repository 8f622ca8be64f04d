/** docs/api.md lists every operation of /openapi.json, so the document cannot fall behind the code. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config/config.ts";
import { openGateway } from "../../src/gateway.ts";
import { createGatewayServer } from "../../src/http/server.ts";
import { setLogLevel } from "../../src/util/log.ts";
import { REPO_ROOT, sandboxTempDir } from "../helpers/paths.ts";

Deno.test("docs/api.md names every OpenAPI operation", async () => {
  setLogLevel("none");
  const dir = await sandboxTempDir("apidoc-");
  const gw = await openGateway(
    loadConfig({
      ABSTRACTGATEWAY_DATA_DIR: dir,
      ABSTRACTGATEWAY_FLOWS_DIR: join(REPO_ROOT, "bundles"),
      ABSTRACTGATEWAY_AUTH_TOKEN: "t",
    }),
    { runner: false },
  );
  const server = createGatewayServer(gw);
  try {
    const doc = await (await server.app.request("/openapi.json")).json();
    const text = await Deno.readTextFile(join(REPO_ROOT, "docs", "api.md"));
    const rows = new Set(
      [...text.matchAll(/^\|\s*(GET|POST|PUT|PATCH|DELETE)\s*\|\s*`([^`]+)`/gm)].map((m) =>
        `${m[1]} ${m[2]}`
      ),
    );
    const missing: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(ops)) {
        if (!rows.has(`${method.toUpperCase()} ${path}`)) missing.push(`${method.toUpperCase()} ${path}`);
      }
    }
    assert.deepEqual(missing, [], "add these to docs/api.md");
  } finally {
    await server.close();
    await gw.close();
    await Deno.remove(dir, { recursive: true });
    setLogLevel("info");
  }
});
