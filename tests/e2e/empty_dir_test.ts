/**
 * `mkdir ~/gw && cd ~/gw && ./gateway serve` on a machine that never saw the source: the entry runs with
 * exactly the release binary's flags (relative paths, resolved against the start directory) from an
 * empty directory outside the checkout. It creates ./data and its token there, seeds ./bundles with the
 * default bundles, serves them, and runs one to completion.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { permissionFlags } from "../../release/flags.ts";
import { startServe } from "../helpers/gateway_process.ts";
import { REPO_ROOT } from "../helpers/paths.ts";

async function flowFiles(dir: string): Promise<string[]> {
  const names = [];
  for await (const e of Deno.readDir(dir)) if (e.name.endsWith(".flow")) names.push(e.name);
  return names.sort();
}

Deno.test("a binary started in an empty directory writes ./data, seeds ./bundles and serves them", async () => {
  const home = await Deno.makeTempDir({ prefix: "gw-empty-" });
  try {
    const launch = { cwd: home, flags: ["--config", join(REPO_ROOT, "deno.json"), ...permissionFlags()] };
    const gw = await startServe({}, [], 30_000, launch);
    try {
      const token = (await Deno.readTextFile(join(home, "data", "auth", "gateway-token"))).trim();
      const auth = { Authorization: `Bearer ${token}` };
      const list = await (await fetch(`${gw.url}/api/gateway/bundles`, { headers: auth })).json();
      const ids = list.items.map((b: { bundle_id: string }) => b.bundle_id).sort();
      const shipped = await flowFiles(join(REPO_ROOT, "bundles"));
      assert.deepEqual(ids, shipped.map((name) => name.split("@")[0]));
      assert.deepEqual(await flowFiles(join(home, "bundles")), shipped);
      assert.deepEqual(
        await Deno.readFile(join(home, "bundles", "hello@1.0.0.flow")),
        await Deno.readFile(join(REPO_ROOT, "bundles", "hello@1.0.0.flow")),
      );
      const start = await fetch(`${gw.url}/api/gateway/runs/start`, {
        method: "POST",
        headers: { ...auth, "Content-Type": "application/json" },
        body: JSON.stringify({ bundle_id: "hello", input_data: { name: "Ada" } }),
      });
      const { run_id } = await start.json();
      let run = { status: "running" };
      for (let i = 0; i < 100 && run.status !== "completed"; i++) {
        await new Promise((r) => setTimeout(r, 50));
        run = await (await fetch(`${gw.url}/api/gateway/runs/${run_id}`, { headers: auth })).json();
      }
      assert.equal(run.status, "completed");
      const ledger =
        await (await fetch(`${gw.url}/api/gateway/runs/${run_id}/ledger?after=0`, { headers: auth }))
          .text();
      assert.ok(ledger.includes("Hello, Ada"), ledger);
    } finally {
      assert.equal(await gw.stop(), 0, gw.stderr());
    }
    const stat = await Deno.stat(join(home, "data", "gateway_runner.lock")).catch(() => null);
    assert.ok(stat === null || stat.isFile, "the runner's lock lives in ./data of the start dir");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
