/** Contract §1.2: the runner entry point does not pull in the HTTP framework or the HTTP API. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT } from "../helpers/paths.ts";

Deno.test("gateway runner's module graph holds no hono and no src/http", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", join(REPO_ROOT, "src/cli/runner.ts")],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: { specifier: string }[] };
  const specifiers = info.modules.map((m) => m.specifier);
  assert.ok(specifiers.some((s) => s.endsWith("/src/runner/runner.ts")), "graph should contain the runner");
  assert.deepEqual(specifiers.filter((s) => /hono|\/src\/http\//.test(s)), []);
});
