/** `gateway migrate` refuses while `serve` holds the runner lock, then migrates once and says so. */
import assert from "node:assert/strict";
import { bundlesEnv, runGateway, startServe } from "../helpers/gateway_process.ts";
import { apiJson, waitRunStatus } from "../helpers/gateway_api.ts";
import { sandboxTempDir } from "../helpers/paths.ts";

const TOKEN = "migrate-lock-token-0123456789abcdef";

Deno.test("migrate: refused under a live serve; --json summary; a second run has nothing to do", async () => {
  const data = await sandboxTempDir("migrate-lock-");
  try {
    const env = bundlesEnv(data, TOKEN);
    const gw = await startServe(env);
    try {
      const { run_id } = await apiJson(gw.url, TOKEN, "/runs/start", { bundle_id: "hello" });
      await waitRunStatus(gw.url, TOKEN, run_id, "completed");
      const refused = await runGateway(["migrate"], env);
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        /^gateway migrate: Cannot migrate .*: a runner holds .*gateway_runner\.lock; stop/,
      );
    } finally {
      assert.equal(await gw.stop(), 0);
    }
    const first = await runGateway(["migrate", "--json"], env);
    assert.equal(first.code, 0, first.stderr);
    const report = JSON.parse(first.stdout);
    assert.equal(report.changed, true);
    assert.equal(report.totals.runs, 1);
    assert.ok(report.totals.ledger_records >= 2);
    assert.equal(typeof report.elapsed_ms, "number");

    const second = await runGateway(["migrate"], env);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stderr, "");
    assert.deepEqual(second.stdout.trim().split("\n").length, 1);
    assert.match(
      second.stdout,
      /^Nothing to do: .* already holds every run of .* \(1 runs, \d+ ledger records/,
    );
  } finally {
    await Deno.remove(data, { recursive: true });
  }
});
