import assert from "node:assert/strict";
import { join } from "node:path";
import { openBundleHost } from "../../src/bundles/host.ts";
import { BundleError, type VisualFlow } from "../../src/bundles/types.ts";
import { setLogLevel } from "../../src/util/log.ts";
import { compatTest, upstreamBundlesDir } from "../helpers/compat.ts";
import { OUR_BUNDLES } from "../helpers/paths.ts";
import { makeBundle, simpleFlow, tempDir } from "./fixtures.ts";

const MAX = 1024 * 1024;
setLogLevel("none");

async function dirs(root: string) {
  const flowsDir = join(root, "flows");
  const dataDir = join(root, "data");
  await Deno.mkdir(flowsDir, { recursive: true });
  return { flowsDir, dataDir };
}

async function expectBundleError(p: Promise<unknown>, pattern: RegExp, status = 400): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof BundleError, `expected BundleError, got ${err}`);
    assert.match(err.message, pattern);
    assert.equal(err.status, status);
    return true;
  });
}

Deno.test("host: loads a dir sorted by name; a corrupt bundle is reported and skipped", async () => {
  await using tmp = await tempDir();
  const { flowsDir, dataDir } = await dirs(tmp.path);
  await Deno.writeFile(join(flowsDir, "a-good.flow"), makeBundle({ id: "alpha", version: "1.0.0" }));
  await Deno.writeFile(join(flowsDir, "b-corrupt.flow"), new TextEncoder().encode("garbage"));
  await Deno.writeFile(join(flowsDir, "c-good.flow"), makeBundle({ id: "beta" }));
  await Deno.writeFile(
    join(flowsDir, "d-dup.flow"),
    makeBundle({ id: "alpha", version: "1.0.0", metadata: { dup: 1 } }),
  );
  await Deno.writeFile(join(flowsDir, "notes.txt"), new TextEncoder().encode("ignored"));

  const host = await openBundleHost({ flowsDir, dataDir, maxBundleBytes: MAX });
  assert.deepEqual(host.list().map((b) => b.ref), ["alpha@1.0.0", "beta@0.0.0"]);
  assert.deepEqual(host.get("alpha")?.manifest.metadata, {}, "first file wins on duplicates");
  assert.equal(host.get("alpha")?.file, join(flowsDir, "a-good.flow"));
  const errors = host.errors();
  assert.equal(errors.length, 2);
  assert.equal(errors[0].file, join(flowsDir, "b-corrupt.flow"));
  assert.match(errors[0].error, /not a zip archive/);
  assert.match(errors[1].error, /Duplicate bundle alpha@1\.0\.0 \(already loaded from .*a-good\.flow\)/);
  assert.equal(host.defaultBundleId(), null);
  assert.equal(host.getWorkflow("beta@0.0.0:root")?.id, "beta@0.0.0:root");
  assert.equal(host.getWorkflow("beta@9.9.9:root"), undefined);
});

Deno.test("host: our example bundles dir, and a single .flow file as the flows dir", async () => {
  await using tmp = await tempDir();
  const host = await openBundleHost({ flowsDir: OUR_BUNDLES, dataDir: tmp.path, maxBundleBytes: MAX });
  assert.deepEqual(host.errors(), []);
  assert.deepEqual(host.list().map((b) => b.ref), [
    "approval@1.0.0",
    "assistant@1.0.0",
    "events@1.0.0",
    "hello@1.0.0",
  ]);
  assert.equal(host.defaultBundleId(), null);
  assert.equal(host.getWorkflow("approval@1.0.0:wait-decision")?.id, "approval@1.0.0:wait-decision");

  const single = await openBundleHost({
    flowsDir: join(OUR_BUNDLES, "hello@1.0.0.flow"),
    dataDir: tmp.path,
    maxBundleBytes: MAX,
  });
  assert.deepEqual(single.list().map((b) => b.ref), ["hello@1.0.0"]);
  assert.equal(single.defaultBundleId(), "hello");
  await expectBundleError(
    single.install(makeBundle({ id: "x" }), { overwrite: false }),
    /single \.flow file/,
  );
});

compatTest("host: real upstream bundles, latest version and default bundle", async () => {
  const UPSTREAM_BUNDLES = upstreamBundlesDir();
  await using tmp = await tempDir();
  const host = await openBundleHost({ flowsDir: UPSTREAM_BUNDLES, dataDir: tmp.path, maxBundleBytes: MAX });
  assert.deepEqual(host.errors(), []);
  assert.equal(host.get("basic-agent")?.ref, "basic-agent@0.0.1");
  assert.deepEqual(host.versions("basic-agent").map((b) => b.ref), [
    "basic-agent@0.0.0",
    "basic-agent@0.0.1",
  ]);
  assert.equal(
    host.get("Untitled-Flow")?.manifest.bundle_version,
    "draft.7dc05dbc-58d5-4175-b58f-3531f5548246",
  );
  assert.equal(host.defaultBundleId(), null);
  const child = host.getWorkflow("basic-agent@0.0.0:15f19f7f");
  assert.equal(child?.name, "ac-update-status");

  const single = await openBundleHost({
    flowsDir: join(UPSTREAM_BUNDLES, "yoda@dev.flow"),
    dataDir: tmp.path,
    maxBundleBytes: MAX,
  });
  assert.deepEqual(single.list().map((b) => b.ref), ["yoda@dev"]);
  assert.equal(single.defaultBundleId(), "yoda");
  await expectBundleError(
    single.install(makeBundle({ id: "x" }), { overwrite: false }),
    /single \.flow file/,
  );
});

Deno.test("host: install validates, refuses duplicates, overwrites, and remove matches manifests", async () => {
  await using tmp = await tempDir();
  const { dataDir } = await dirs(tmp.path);
  const flowsDir = join(tmp.path, "not-yet-created");
  const host = await openBundleHost({ flowsDir, dataDir, maxBundleBytes: 4000 });
  assert.equal((await Deno.stat(flowsDir)).isDirectory, true, "flows dir is created");

  const v1 = makeBundle({ id: "demo", version: "0.0.1" });
  const installed = await host.install(v1, { overwrite: false });
  assert.equal(installed.ref, "demo@0.0.1");
  assert.equal(installed.file, join(flowsDir, "demo@0.0.1.flow"));
  assert.deepEqual(await Deno.readFile(installed.file!), v1);
  assert.equal(host.getWorkflow("demo@0.0.1:root")?.id, "demo@0.0.1:root");
  assert.equal(host.defaultBundleId(), "demo");

  await expectBundleError(
    host.install(v1, { overwrite: false }),
    /^Bundle already installed: demo@0\.0\.1\.flow$/,
  );
  await expectBundleError(host.install(new Uint8Array(0), { overwrite: false }), /^Bundle content is empty$/);
  await expectBundleError(
    host.install(new Uint8Array(5000), { overwrite: false }),
    /^Bundle too large \(5000 bytes > 4000 bytes\)$/,
    413,
  );
  await expectBundleError(host.install(new TextEncoder().encode("nope"), { overwrite: false }), /not a zip/);
  await expectBundleError(
    host.install(makeBundle({ id: "bad id" }), { overwrite: false }),
    /Unsafe bundle_id/,
  );

  const v1b = makeBundle({ id: "demo", version: "0.0.1", metadata: { rev: 2 } });
  const replaced = await host.install(v1b, { overwrite: true });
  assert.deepEqual(replaced.manifest.metadata, { rev: 2 });
  assert.deepEqual(host.get("demo", "0.0.1")?.manifest.metadata, { rev: 2 });

  // A copy of the same id@version under another file name counts as installed, and is replaced.
  await Deno.writeFile(join(flowsDir, "aaa-legacy.flow"), makeBundle({ id: "demo", version: "0.0.2" }));
  await host.reload();
  await expectBundleError(
    host.install(makeBundle({ id: "demo", version: "0.0.2" }), { overwrite: false }),
    /already installed: demo@0\.0\.2\.flow/,
  );
  await host.install(makeBundle({ id: "demo", version: "0.0.2", metadata: { new: true } }), {
    overwrite: true,
  });
  assert.deepEqual(host.get("demo")?.manifest.metadata, { new: true });
  await assert.rejects(Deno.stat(join(flowsDir, "aaa-legacy.flow")), Deno.errors.NotFound);

  await Deno.writeFile(join(flowsDir, "renamed.flow"), makeBundle({ id: "other" }));
  await host.reload();
  assert.equal(await host.remove("demo", "0.0.1"), 1);
  assert.deepEqual(host.versions("demo").map((b) => b.ref), ["demo@0.0.2"]);
  assert.equal(await host.remove("demo", "0.0.1"), 0);
  assert.equal(await host.remove("other"), 1, "matched by manifest, not by file name");
  assert.equal(await host.remove("demo"), 1);
  assert.deepEqual(host.list(), []);
  assert.equal(host.getWorkflow("demo@0.0.1:root"), undefined);
});

Deno.test("host: symlinks pointing outside the flows dir are refused", async () => {
  await using tmp = await tempDir();
  const { flowsDir, dataDir } = await dirs(tmp.path);
  const outside = join(tmp.path, "outside.flow");
  await Deno.writeFile(outside, makeBundle({ id: "outside" }));
  await Deno.symlink(outside, join(flowsDir, "link.flow"));
  await Deno.writeFile(join(flowsDir, "real.flow"), makeBundle({ id: "inside" }));
  await Deno.symlink(join(flowsDir, "real.flow"), join(flowsDir, "alias.flow"));

  const host = await openBundleHost({ flowsDir, dataDir, maxBundleBytes: MAX });
  assert.deepEqual(host.list().map((b) => b.ref), ["inside@0.0.0"]);
  const errors = host.errors();
  assert.equal(errors.length, 2);
  assert.ok(
    errors.some((e) => /Refusing link\.flow: it is a symlink pointing outside the flows dir/.test(e.error)),
  );
  assert.ok(
    errors.some((e) => /Duplicate bundle inside@0\.0\.0/.test(e.error)),
    "alias.flow sorts first and wins",
  );
  assert.equal(host.get("inside")?.file, join(flowsDir, "alias.flow"));
});

Deno.test("host: dynamic flows persist across reopen and are found on demand", async () => {
  await using tmp = await tempDir();
  const { flowsDir, dataDir } = await dirs(tmp.path);
  const host = await openBundleHost({ flowsDir, dataDir, maxBundleBytes: MAX });
  const wrapper: VisualFlow = { ...simpleFlow("scheduled:1234-abcd"), description: "wrapper" };
  await host.saveDynamicFlow(wrapper);
  assert.equal(host.getWorkflow("scheduled:1234-abcd")?.description, "wrapper");
  const file = join(dataDir, "dynamic_flows", "scheduled_1234-abcd.json");
  assert.equal(JSON.parse(await Deno.readTextFile(file)).id, "scheduled:1234-abcd");

  await host.saveDynamicFlow({ ...wrapper, description: "updated" });
  assert.equal(host.getWorkflow("scheduled:1234-abcd")?.description, "updated");

  const reopened = await openBundleHost({ flowsDir, dataDir, maxBundleBytes: MAX });
  assert.equal(reopened.getWorkflow("scheduled:1234-abcd")?.description, "updated");

  // Written by another process after this one loaded: found on first lookup.
  await host.saveDynamicFlow(simpleFlow("scheduled:later"));
  assert.equal(reopened.getWorkflow("scheduled:later")?.id, "scheduled:later");

  await Deno.writeTextFile(join(dataDir, "dynamic_flows", "broken.json"), "{");
  await reopened.reload();
  assert.equal(reopened.errors().length, 1);
  assert.match(reopened.errors()[0].error, /Dynamic flow broken\.json is not valid JSON/);
  assert.equal(reopened.getWorkflow("scheduled:later")?.id, "scheduled:later");
  await expectBundleError(host.saveDynamicFlow({ ...simpleFlow(""), id: "" }), /has no 'id'/);
});

Deno.test("host: deprecations persist, fall back to '*', and a corrupt file reads as empty", async () => {
  await using tmp = await tempDir();
  const { flowsDir, dataDir } = await dirs(tmp.path);
  const host = await openBundleHost({ flowsDir, dataDir, maxBundleBytes: MAX });
  const d = host.deprecations;
  assert.equal(d.isDeprecated("b", "f"), null);
  const rec = await d.deprecate("b", "f", " old ");
  assert.match(rec.deprecated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
  assert.equal(rec.reason, "old");
  assert.deepEqual(d.isDeprecated("b", "f"), rec);
  assert.equal(d.isDeprecated("b", "g"), null);
  await d.deprecate("b", "*");
  assert.equal(d.isDeprecated("b", "g")?.reason, undefined);
  assert.ok(d.isDeprecated("b", "g"));

  const file = join(dataDir, "workflow_deprecations.json");
  const doc = JSON.parse(await Deno.readTextFile(file));
  assert.equal(doc.version, 1);
  assert.deepEqual(Object.keys(doc.bundles.b).sort(), ["*", "f"]);

  const reopened = await openBundleHost({ flowsDir, dataDir, maxBundleBytes: MAX });
  assert.equal(reopened.deprecations.isDeprecated("b", "f")?.reason, "old");
  assert.equal(await reopened.deprecations.undeprecate("b", "*"), true);
  assert.equal(await reopened.deprecations.undeprecate("b", "*"), false);
  assert.equal(reopened.deprecations.isDeprecated("b", "g"), null);

  await Deno.writeTextFile(file, "{corrupt");
  await reopened.reload();
  assert.equal(reopened.deprecations.isDeprecated("b", "f"), null);
  await reopened.deprecations.deprecate("c", "x");
  assert.deepEqual(Object.keys(JSON.parse(await Deno.readTextFile(file)).bundles), ["c"]);
});

Deno.test("host: concurrent installs and reloads serialise", async () => {
  await using tmp = await tempDir();
  const { flowsDir, dataDir } = await dirs(tmp.path);
  const host = await openBundleHost({ flowsDir, dataDir, maxBundleBytes: MAX });
  const results = await Promise.allSettled([
    ...Array.from({ length: 5 }, (_, i) => host.install(makeBundle({ id: `b${i}` }), { overwrite: false })),
    host.reload(),
    host.install(makeBundle({ id: "b0" }), { overwrite: false }),
  ]);
  assert.deepEqual(results.map((r) => r.status), [...Array(6).fill("fulfilled"), "rejected"]);
  assert.equal(host.list().length, 5);
  const leftovers = [];
  for await (const e of Deno.readDir(flowsDir)) if (!e.name.endsWith(".flow")) leftovers.push(e.name);
  assert.deepEqual(leftovers, [], "no temp files left behind");
});
