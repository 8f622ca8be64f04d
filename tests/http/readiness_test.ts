/** `/api/health/ready` on the real app: each failing part is named, and a fresh heartbeat makes it ready. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { HEARTBEAT_FILE } from "../../src/runner/heartbeat.ts";
import { RUNNER_STALE_MS } from "../../src/runner/readiness.ts";
import { startServer } from "./harness.ts";

Deno.test("readiness: ready with the in-process runner; names a stale heartbeat, missing bundles", async () => {
  const s = await startServer({ bundles: [] });
  try {
    await s.gw.runner!.ready;
    let first = await s.json("/api/health/ready", { auth: false });
    for (let i = 0; i < 100 && !first.body.checks.runner.ok; i++) { // the first beat follows the lock
      await new Promise((r) => setTimeout(r, 20));
      first = await s.json("/api/health/ready", { auth: false });
    }
    assert.equal(first.status, 503);
    assert.deepEqual(first.body.failing, ["bundles"]);
    assert.match(first.body.checks.bundles.detail, /no bundles loaded from /);
    assert.equal(first.body.checks.store.ok, true);
    assert.equal(first.body.checks.runner.ok, true);
    assert.match(first.body.checks.runner.detail, /last runner heartbeat .* ago \(pid \d+\)/);

    await s.gw.runner!.stop();
    const old = new Date(Date.now() - RUNNER_STALE_MS - 5_000).toISOString();
    await Deno.writeTextFile(
      join(s.dataDir, HEARTBEAT_FILE), // the stopped runner's beat, made stale
      JSON.stringify({ pid: 1, started_at: old, at: old }),
    );
    const stale = await s.json("/api/health/ready", { auth: false });
    assert.equal(stale.status, 503);
    assert.deepEqual(stale.body.failing, ["runner", "bundles"]);
    assert.match(stale.body.checks.runner.detail, /older than/);

    await Deno.chmod(s.dataDir, 0o500); // the store no longer takes writes
    try {
      const readOnly = await s.json("/api/health/ready", { auth: false });
      if (Deno.uid() !== 0) { // root ignores the mode
        assert.deepEqual(readOnly.body.failing, ["store", "runner", "bundles"]);
        assert.match(readOnly.body.checks.store.detail, /^Cannot use the file store: /);
      }
    } finally {
      await Deno.chmod(s.dataDir, 0o700);
    }
  } finally {
    await s.close();
  }
});
