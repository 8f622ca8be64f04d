/** The host under real Deno permissions (subprocess): read-only flows dir, writable data dir. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { REPO_ROOT } from "../helpers/paths.ts";
import { makeBundle, tempDir } from "./fixtures.ts";

const PROBE = fileURLToPath(new URL("./install_probe.ts", import.meta.url));

async function probe(tmp: string, writable: string[]): Promise<Record<string, unknown>> {
  const flowsDir = join(tmp, "flows");
  const dataDir = join(tmp, "data");
  const bundle = join(tmp, "demo.flow");
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      `--config=${join(REPO_ROOT, "deno.json")}`,
      `--allow-read=${tmp}`,
      `--allow-write=${writable.join(",")}`,
      PROBE,
      flowsDir,
      dataDir,
      bundle,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout).trim();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(stdout);
}

Deno.test("host permissions: install into a read-only flows dir fails with a clear BundleError", async () => {
  await using tmp = await tempDir();
  await Deno.mkdir(join(tmp.path, "flows"));
  await Deno.mkdir(join(tmp.path, "data"));
  await Deno.writeFile(join(tmp.path, "demo.flow"), makeBundle({ id: "demo", version: "0.0.1" }));

  const denied = await probe(tmp.path, [join(tmp.path, "data")]);
  assert.equal(denied.ok, false);
  assert.equal(denied.name, "BundleError");
  assert.equal(denied.status, 500);
  assert.match(String(denied.message), /Cannot modify the flows dir .*ABSTRACTGATEWAY_FLOWS_DIR/);

  const allowed = await probe(tmp.path, [join(tmp.path, "data"), join(tmp.path, "flows")]);
  assert.deepEqual(allowed, { ok: true, ref: "demo@0.0.1", loaded: ["demo@0.0.1"] });
});
