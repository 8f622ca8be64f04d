/** `/openapi.json` is a valid OpenAPI 3.1 document (checked by an npm validator) with ids, servers and security. */
import assert from "node:assert/strict";
import SwaggerParser from "@apidevtools/swagger-parser";
import denoJson from "../../deno.json" with { type: "json" };
import { startServer } from "./harness.ts";

const METHODS = ["get", "put", "post", "delete", "patch"];

Deno.test("openapi: valid 3.1, an operationId on every operation, version, servers, public security", async () => {
  const s = await startServer({ env: { ABSTRACTGATEWAY_ENABLE_TOOLING: "1" } });
  try {
    const { status, body: doc } = await s.json("/openapi.json", { auth: false });
    assert.equal(status, 200);
    assert.equal(doc.openapi, "3.1.0");
    assert.equal(doc.info.version, denoJson.version);
    assert.deepEqual(doc.servers, [{ url: "/", description: "This gateway" }]);
    // Throws with every schema error it finds.
    await SwaggerParser.validate(structuredClone(doc));

    const ids: string[] = [];
    for (
      const [path, item] of Object.entries<Record<string, { operationId?: string; security?: unknown }>>(
        doc.paths,
      )
    ) {
      for (const method of METHODS.filter((m) => item[m])) {
        const op = item[method];
        assert.match(op.operationId ?? "", /^[a-z]+[A-Za-z0-9]*$/, `${method} ${path}`);
        ids.push(op.operationId!);
        const open = path === "/api/health" || path === "/api/health/ready";
        assert.deepEqual(op.security, open ? [] : [{ gatewayBearerAuth: [] }], `${method} ${path} security`);
      }
    }
    assert.equal(new Set(ids).size, ids.length, "operationIds are unique");
    assert.ok(ids.includes("getRunsByRunIdLedger"));
  } finally {
    await s.close();
  }
});
