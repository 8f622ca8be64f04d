/** `gateway runner` command line: help, usage errors, SIGINT. */
import assert from "node:assert/strict";
import { runGateway } from "../helpers/gateway_process.ts";
import { sandboxTempDir } from "../helpers/paths.ts";
import { spawnRunner } from "./processes.ts";

Deno.test("runner --help prints usage (exit 0); an unknown flag is a usage error (exit 2)", async () => {
  const help = await runGateway(["runner", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: gateway runner/);
  assert.match(help.stdout, /--data-dir/);
  const bad = await runGateway(["runner", "--bogus"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /bogus/);
  const badValue = await runGateway(["runner", "--store-backend", "mongo"]);
  assert.equal(badValue.code, 2);
  assert.match(badValue.stderr, /file \| sqlite \| postgres/);
});

Deno.test("runner stops on SIGINT with exit 0 and releases the lock", async () => {
  const dir = await sandboxTempDir("runner-cli-");
  const runner = spawnRunner(["--data-dir", dir, "--store-backend", "sqlite"]);
  try {
    await runner.waitFor("runner lock acquired", 30_000);
    runner.child.kill("SIGINT");
    assert.equal((await runner.child.status).code, 0);
    await runner.waitFor("runner stopped; lock released", 1_000);
  } finally {
    await runner.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runner exits 1 with the reason when the lock file cannot be opened", async () => {
  const dir = await sandboxTempDir("runner-cli-");
  try {
    await Deno.mkdir(`${dir}/gateway_runner.lock`); // a directory where the lock file should be
    const out = await runGateway(["runner", "--data-dir", dir], { ABSTRACTGATEWAY_LOG_LEVEL: "error" });
    assert.equal(out.code, 1);
    assert.match(out.stderr, /runner loop crashed/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
