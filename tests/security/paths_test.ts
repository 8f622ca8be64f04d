import assert from "node:assert/strict";
import { join } from "node:path";
import { PathEscapeError, realPathInside } from "../../src/security/paths.ts";

Deno.test("realPathInside: inside paths resolve; traversal and escaping links are refused", async () => {
  const base = await Deno.realPath(await Deno.makeTempDir({ prefix: "gw-paths-" }));
  try {
    const root = join(base, "root");
    const outside = join(base, "outside");
    await Deno.mkdir(join(root, "sub"), { recursive: true });
    await Deno.mkdir(outside);
    await Deno.writeTextFile(join(root, "sub", "a.txt"), "a");
    await Deno.writeTextFile(join(outside, "s.txt"), "s");
    await Deno.symlink(join(root, "sub", "a.txt"), join(root, "inner-link"));
    await Deno.symlink(join(outside, "s.txt"), join(root, "escape-link"));
    await Deno.symlink(outside, join(root, "escape-dir"));

    assert.equal(await realPathInside("sub/a.txt", [root]), join(root, "sub", "a.txt"));
    assert.equal(await realPathInside(join(root, "sub", "a.txt"), [root]), join(root, "sub", "a.txt"));
    assert.equal(
      await realPathInside("inner-link", [root]),
      join(root, "sub", "a.txt"),
      "links inside are fine",
    );
    for (
      const bad of [
        "../outside/s.txt",
        join(outside, "s.txt"),
        "escape-link",
        "escape-dir/s.txt",
        "sub/../../outside/s.txt",
      ]
    ) {
      await assert.rejects(realPathInside(bad, [root]), PathEscapeError, bad);
    }
    assert.equal(await realPathInside(join(outside, "s.txt"), [root, outside]), join(outside, "s.txt"));
    await assert.rejects(realPathInside("missing.txt", [root]), Deno.errors.NotFound);
    await assert.rejects(realPathInside("sub/a.txt", []), PathEscapeError);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
