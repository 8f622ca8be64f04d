/**
 * `deno task compile` must stay correct for users even though our machines cannot download Deno's
 * `denort` runtime: the compile command (same flags as the task) must get past the module graph and the
 * permission set, and fail — if at all — only at that download. Where the download works, the binary
 * it produces must run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import denoJson from "../../deno.json" with { type: "json" };
import { REPO_ROOT } from "../helpers/paths.ts";

Deno.test("deno task compile builds the gateway, or fails only on the denort download", async () => {
  const task = denoJson.tasks.compile;
  assert.match(task, /^deno compile -P=gateway --no-prompt -o dist\/gateway main\.ts$/);
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "gateway");
    const args = task.replace(/^deno /, "").replace("dist/gateway", out).split(" ");
    const res = await new Deno.Command(Deno.execPath(), { args, cwd: REPO_ROOT, stdin: "null" }).output();
    const stderr = new TextDecoder().decode(res.stderr);
    if (res.success) {
      const version = await new Deno.Command(out, { args: ["version"] }).output();
      assert.ok(version.success);
      assert.match(new TextDecoder().decode(version.stdout), /^gateway \d+\.\d+\.\d+/);
    } else {
      assert.match(stderr, /denort-[\w-]+\.zip/, `compile failed before the runtime download:\n${stderr}`);
      assert.doesNotMatch(stderr, /Module not found|Import .* not a dependency|TS\d{4}/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
