import assert from "node:assert/strict";
import { join } from "node:path";
import { bundleCommand } from "../../src/cli/bundle.ts";
import { OUR_BUNDLES } from "../helpers/paths.ts";
import { unrunnableFlow } from "../helpers/bundles.ts";
import { makeBundle, tempDir } from "./fixtures.ts";

/** Runs the command with console.log/error captured. */
async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    const code = await bundleCommand(args);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

Deno.test("cli bundle: usage errors exit 2, --help exits 0", async () => {
  assert.equal((await run()).code, 2);
  const unknown = await run("frobnicate");
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown subcommand 'frobnicate'/);
  assert.equal((await run("validate")).code, 2);
  assert.equal((await run("inspect")).code, 2);
  assert.equal((await run("list", "--bogus")).code, 2);
  const help = await run("--help");
  assert.equal(help.code, 0);
  assert.match(help.out, /gateway bundle validate <file\.flow \| ->/);
});

Deno.test("cli bundle: validate exits 0 when all are valid, 1 with one line per invalid file", async () => {
  await using tmp = await tempDir();
  const good = join(tmp.path, "good.flow");
  const bad = join(tmp.path, "bad.flow");
  await Deno.writeFile(good, makeBundle({ id: "good" }));
  await Deno.writeTextFile(bad, "not a zip");
  const allGood = await run("validate", good, join(OUR_BUNDLES, "assistant@1.0.0.flow"));
  assert.equal(allGood.code, 0);
  assert.match(allGood.out, /ok .*good\.flow: good@0\.0\.0 \(1 flows\)/);
  const mixed = await run("validate", good, bad, join(tmp.path, "missing.flow"));
  assert.equal(mixed.code, 1);
  const lines = mixed.err.split("\n");
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^invalid .*bad\.flow: Not a \.flow bundle: not a zip archive/);
  assert.match(lines[1], /^invalid .*missing\.flow: /);
});

Deno.test("cli bundle: validate reports reachable nodes this gateway cannot run (orphans ignored)", async () => {
  await using tmp = await tempDir();
  const file = join(tmp.path, "media.flow");
  await Deno.writeFile(file, makeBundle({ id: "media", flows: { root: unrunnableFlow("root") } }));
  const res = await run("validate", file);
  assert.equal(res.code, 0, "still a valid bundle");
  assert.match(
    res.out,
    /cannot run .*media\.flow: node 'img' of flow 'media@0\.0\.0:root' has type 'generate_music', which this gateway cannot run/,
  );
  assert.doesNotMatch(res.out, /orphan/);
});

Deno.test("cli bundle: list shows bundles and bad files", async () => {
  await using tmp = await tempDir();
  await Deno.writeFile(
    join(tmp.path, "a.flow"),
    makeBundle({ id: "alpha", version: "1.2.3", defaultEntrypoint: "root" }),
  );
  await Deno.writeTextFile(join(tmp.path, "broken.flow"), "x");
  const res = await run("list", "--flows-dir", tmp.path);
  assert.equal(res.code, 0);
  assert.match(res.out, /alpha@1\.2\.3\s+published\s+root\*\s+a\.flow/);
  assert.match(res.out, /invalid broken\.flow: Not a \.flow bundle/);
  const json = await run("list", "--json", "--flows-dir", tmp.path);
  const doc = JSON.parse(json.out);
  assert.deepEqual(doc.bundles.map((b: { bundle_ref: string }) => b.bundle_ref), ["alpha@1.2.3"]);
  assert.equal(doc.errors.length, 1);
});

Deno.test("cli bundle: inspect a file or an installed id[@version]", async () => {
  const byFile = await run("inspect", join(OUR_BUNDLES, "approval@1.0.0.flow"));
  assert.equal(byFile.code, 0);
  const doc = JSON.parse(byFile.out);
  assert.equal(doc.bundle_ref, "approval@1.0.0");
  assert.equal(doc.flows["wait-decision"].workflow_id, "approval@1.0.0:wait-decision");
  assert.ok(doc.entrypoints[0].inputs.some((i: { id: string }) => i.id === "request"));

  await using versions = await tempDir();
  await Deno.writeFile(join(versions.path, "a1.flow"), makeBundle({ id: "alpha", version: "0.0.1" }));
  await Deno.writeFile(join(versions.path, "a2.flow"), makeBundle({ id: "alpha", version: "0.0.2" }));
  const byId = await run("inspect", "alpha@0.0.1", "--flows-dir", versions.path);
  assert.equal(byId.code, 0);
  assert.equal(JSON.parse(byId.out).bundle_ref, "alpha@0.0.1");
  const latest = await run("inspect", "alpha", "--flows-dir", versions.path);
  assert.equal(JSON.parse(latest.out).bundle_ref, "alpha@0.0.2");

  const missing = await run("inspect", "nope", "--flows-dir", OUR_BUNDLES);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /bundle 'nope' not found/);
  await using tmp = await tempDir();
  await Deno.writeTextFile(join(tmp.path, "bad.flow"), "x");
  const bad = await run("inspect", join(tmp.path, "bad.flow"));
  assert.equal(bad.code, 1);
  assert.match(bad.err, /not a zip archive/);
});
