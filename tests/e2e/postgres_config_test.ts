/** The postgres backend's settings under the real `gateway` permission set (no PostgreSQL needed). */
import assert from "node:assert/strict";
import { permissionFlags } from "../../release/flags.ts";
import { FROM_REPO, runGateway } from "../helpers/gateway_process.ts";
import { sandboxTempDir } from "../helpers/paths.ts";

const SECRET = "pg-secret-never-printed";
const env = {
  ABSTRACTGATEWAY_STORE_BACKEND: "postgres",
  ABSTRACTGATEWAY_DATABASE_URL: `postgres://gw:${SECRET}@db.example.invalid:5432/gateway`,
};

Deno.test("postgres: `gateway config` masks the database URL", async () => {
  const { code, stdout, stderr } = await runGateway(["config"], env);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^ABSTRACTGATEWAY_STORE_BACKEND\s+postgres\s+\(env\)$/m);
  assert.match(stdout, /^ABSTRACTGATEWAY_DATABASE_URL\s+\*\*\*\s+\(env\)$/m);
  assert.ok(!(stdout + stderr).includes(SECRET));
});

Deno.test("postgres: an unreachable or unpermitted database host is refused in one clear line", async () => {
  const dir = await sandboxTempDir("pg-perm-");
  try {
    // The release set may connect anywhere the operator names: a name that does not resolve is said so.
    const unreachable = await runGateway(["runner", "--data-dir", dir], env);
    assert.notEqual(unreachable.code, 0);
    assert.match(unreachable.stderr, /Cannot reach PostgreSQL at db\.example\.invalid:5432: /);
    assert.ok(!unreachable.stderr.includes(SECRET));

    // A build with a narrower net permission refuses the host before connecting.
    const narrow = permissionFlags().filter((f) => !/^--(allow|deny)-net/.test(f)).concat(
      "--allow-net=127.0.0.1",
    );
    const refused = await runGateway(["runner", "--data-dir", dir], env, { ...FROM_REPO, flags: narrow });
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      /Cannot connect to PostgreSQL at db\.example\.invalid:5432: the net permission set does not include this host/,
    );
    assert.ok(!refused.stderr.includes(SECRET));

    const missing = await runGateway(["runner", "--data-dir", dir], {
      ABSTRACTGATEWAY_STORE_BACKEND: "postgres",
    });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /ABSTRACTGATEWAY_STORE_BACKEND=postgres needs ABSTRACTGATEWAY_DATABASE_URL/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
