/** The postgres backend's settings under the real `gateway` permission set (no PostgreSQL needed). */
import assert from "node:assert/strict";
import { runGateway } from "../helpers/gateway_process.ts";
import { sandboxTempDir } from "../helpers/paths.ts";

const SECRET = "pg-secret-never-printed";
const env = {
  ABSTRACTGATEWAY_STORE_BACKEND: "postgres",
  ABSTRACTGATEWAY_DATABASE_URL: `postgres://gw:${SECRET}@db.example.internal:5432/gateway`,
};

Deno.test("postgres: `gateway config` masks the database URL", async () => {
  const { code, stdout, stderr } = await runGateway(["config"], env);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /storeBackend: "postgres"/);
  assert.match(stdout, /databaseUrl: "\*\*\*"/);
  assert.ok(!(stdout + stderr).includes(SECRET));
});

Deno.test("postgres: a database host outside the net permission set is refused in one clear line", async () => {
  const dir = await sandboxTempDir("pg-perm-");
  try {
    const { code, stderr } = await runGateway(["runner", "--data-dir", dir], env);
    assert.notEqual(code, 0);
    assert.match(
      stderr,
      /Cannot connect to PostgreSQL at db\.example\.internal:5432: the net permission set does not include this host/,
    );
    assert.ok(!stderr.includes(SECRET));
    const missing = await runGateway(["runner", "--data-dir", dir], {
      ABSTRACTGATEWAY_STORE_BACKEND: "postgres",
    });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /ABSTRACTGATEWAY_STORE_BACKEND=postgres needs ABSTRACTGATEWAY_DATABASE_URL/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
