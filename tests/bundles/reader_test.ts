import assert from "node:assert/strict";
import { join } from "node:path";
import { readBundleManifestFrom, readFlowBundle, readFlowBundleFrom } from "../../src/bundles/reader.ts";
import { bytesSource } from "../../src/bundles/zip_stream.ts";
import { BundleError, type VisualFlow } from "../../src/bundles/types.ts";
import { compatTest, upstreamBundlesDir } from "../helpers/compat.ts";
import { OUR_BUNDLES } from "../helpers/paths.ts";
import { makeBundle, makeZip, manifestOf, simpleFlow } from "./fixtures.ts";

/** The reader (piece by piece, as for files and uploads) refuses `bytes` with a 4xx BundleError. */
async function rejects(bytes: Uint8Array, pattern: RegExp, options = {}, status = 400): Promise<void> {
  const check = (err: unknown) => {
    assert.ok(err instanceof BundleError, `expected BundleError, got ${err}`);
    assert.match(err.message, pattern);
    assert.equal(err.status, status);
    return true;
  };
  await assert.rejects(readFlowBundleFrom(bytesSource(bytes), options), check);
}

const withManifest = (patch: Record<string, unknown>, files: Record<string, unknown> = {}) =>
  makeZip({
    "manifest.json": { ...manifestOf({ id: "b" }), ...patch },
    "flows/root.json": simpleFlow("root"),
    ...files,
  } as Record<string, object>);

Deno.test("reader: a valid bundle is read with sha256, ref and file=null", async () => {
  const bytes = makeBundle({ id: "demo", version: "0.0.1" });
  const b = await readFlowBundle(bytes);
  assert.equal(b.ref, "demo@0.0.1");
  assert.equal(b.file, null);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(bytes)));
  assert.equal(b.sha256, [...digest].map((x) => x.toString(16).padStart(2, "0")).join(""));
  assert.equal(b.flows.root.id, "demo@0.0.1:root");
  assert.deepEqual(Object.keys(b.flows), ["root"]);
});

Deno.test("reader: clear errors for broken archives and manifests", async () => {
  await rejects(new TextEncoder().encode("hello, not a zip"), /not a zip archive/);
  await rejects(makeZip({ "flows/root.json": simpleFlow("root") }), /no manifest\.json/);
  await rejects(makeZip({ "manifest.json": "{not json" }), /manifest\.json is not valid JSON/);
  await rejects(makeZip({ "manifest.json": "[1,2]" }), /must be a JSON object/);
  await rejects(withManifest({ bundle_format_version: "2" }), /Unsupported bundle_format_version "2"/);
  await rejects(withManifest({ bundle_id: "" }), /bundle_id is missing or empty/);
  await rejects(
    withManifest({ bundle_id: "my bundle/x" }),
    /Unsafe bundle_id "my bundle\/x".*e\.g\. 'my_bundle_x'/,
  );
  await rejects(
    withManifest({ bundle_version: "1.0 beta" }),
    /Unsafe bundle_version "1\.0 beta".*'1\.0_beta'/,
  );
  await rejects(withManifest({ entrypoints: [] }), /entrypoints must be a non-empty list/);
  await rejects(
    withManifest({ entrypoints: [{ flow_id: "root" }, { flow_id: "root" }] }),
    /Duplicate entrypoint flow_id 'root'/,
  );
  await rejects(
    withManifest({ default_entrypoint: "nope" }),
    /default_entrypoint 'nope' is not one of the entrypoints/,
  );
  await rejects(
    withManifest({ entrypoints: [{ flow_id: "other" }] }),
    /Entrypoint flow 'other' is missing from manifest\.flows/,
  );
  await rejects(withManifest({ flows: {} }), /manifest\.flows is empty/);
  await rejects(withManifest({ flows: { root: "../root.json" } }), /unsafe path "\.\.\/root\.json"/);
  await rejects(withManifest({ flows: { root: "/etc/passwd" } }), /unsafe path/);
  await rejects(withManifest({ flows: { root: "C:/flows/root.json" } }), /unsafe path/);
  await rejects(
    withManifest({ assets: { logo: "../../logo.png" } }),
    /manifest\.assets\["logo"\] has an unsafe path/,
  );
  await rejects(
    withManifest({ flows: { root: "flows/missing.json" } }),
    /Flow 'root' file "flows\/missing\.json" is missing/,
  );
  await rejects(
    withManifest({}, { "flows/root.json": "{oops" }),
    /Flow 'root' \(flows\/root\.json\) is not valid JSON/,
  );
  await rejects(withManifest({}, { "flows/root.json": { id: "root", nodes: [] } }), /is not a VisualFlow/);
  await rejects(
    withManifest({}, { "flows/root.json": { id: "root", nodes: [{ id: 1 }], edges: [] } }),
    /nodes\[0\] needs string 'id' and 'type'/,
  );
});

Deno.test("reader: two flows answering to the same id are refused", async () => {
  const bytes = makeZip({
    "manifest.json": manifestOf({ id: "b", flows: { a: simpleFlow("a"), b: simpleFlow("b") } }),
    "flows/a.json": simpleFlow("a"),
    "flows/b.json": simpleFlow("a"),
  });
  await rejects(bytes, /Duplicate flow id 'a'/);
});

Deno.test("reader: camelCase manifest aliases and defaults", async () => {
  const bytes = makeZip({
    "manifest.json": {
      bundleFormatVersion: 1,
      bundleId: "camel",
      createdAt: "2026-02-02T00:00:00Z",
      entrypoints: [{ flowId: "root", interfaces: ["x.v1"] }],
      defaultEntrypoint: "root",
      flows: { root: "flows/root.json" },
    },
    "flows/root.json": simpleFlow("root"),
  });
  const b = await readFlowBundle(bytes);
  assert.equal(b.ref, "camel@0.0.0");
  assert.equal(b.manifest.created_at, "2026-02-02T00:00:00Z");
  assert.equal(b.manifest.default_entrypoint, "root");
  assert.deepEqual(b.manifest.entrypoints, [{
    flow_id: "root",
    name: "root",
    description: "",
    interfaces: ["x.v1"],
  }]);
  assert.deepEqual(b.manifest.metadata, {});
});

Deno.test("reader: zip-slip entry names in the archive are refused", async () => {
  for (const name of ["../evil.json", "/abs.json", "flows/../../evil.json", "C:/win.json", "a\\..\\b.json"]) {
    const bytes = makeZip({
      "manifest.json": manifestOf({ id: "b" }),
      "flows/root.json": simpleFlow("root"),
      [name]: "x",
    });
    await rejects(bytes, /Unsafe zip entry name/);
  }
});

Deno.test("reader: zip bombs and oversized archives are refused before inflating", async () => {
  const zeros = new Uint8Array(4 * 1024 * 1024);
  const bomb = makeZip({
    "manifest.json": manifestOf({ id: "b" }),
    "flows/root.json": simpleFlow("root"),
    "assets/z.bin": zeros,
  });
  await rejects(bomb, /suspicious compression ratio/);
  const small = makeBundle({ id: "b" });
  await rejects(small, /too large uncompressed \(\d+ bytes > 100 bytes\)/, { maxEntryBytes: 100 }, 413);
  await rejects(small, /Bundle is too large uncompressed \(more than 300 bytes\)/, { maxBytes: 300 }, 413);
  await rejects(small, /too many zip entries \(2 > 1\)/, { maxEntries: 1 });
});

Deno.test("reader: a header that under-declares the inflated size is refused", async () => {
  const bytes = makeBundle({ id: "liar" });
  // Patch every central-directory record's uncompressed size (offset 24) down to 10 bytes.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i + 4 <= bytes.length; i++) {
    if (view.getUint32(i, true) === 0x02014b50) view.setUint32(i + 24, 10, true);
  }
  await rejects(bytes, /Corrupt zip entry "manifest.json": size or CRC does not match its header/);
});

Deno.test("reader: readBundleManifestFrom reads only the manifest", async () => {
  const bytes = withManifest({ bundle_id: "only" }, { "flows/root.json": "{broken" });
  assert.equal((await readBundleManifestFrom(bytesSource(bytes))).bundle_id, "only");
  await assert.rejects(readFlowBundle(bytes), /not valid JSON/);
});

Deno.test("reader: sibling subflow references and agent ReAct ids are namespaced", async () => {
  const child = simpleFlow("child");
  const parent = simpleFlow("parent-inner-id");
  parent.nodes.push(
    { id: "sub", type: "subflow", data: { subflowId: "child" } },
    { id: "sub2", type: "subflow", data: { flowId: "parent-inner-id", workflowId: "elsewhere:x" } },
    { id: "sub3", type: "subflow", data: { workflow_id: "child" } },
    { id: "node 7", type: "NodeType.AGENT", data: { agentConfig: { tools: ["read_file"] } } },
  );
  const bytes = makeZip({
    "manifest.json": manifestOf({ id: "bundle-subflow", flows: { root: parent, child } }),
    "flows/root.json": parent,
    "flows/child.json": child,
  });
  const b = await readFlowBundle(bytes);
  const root = b.flows.root;
  const data = (id: string) => root.nodes.find((n) => n.id === id)!.data;
  assert.equal(root.id, "bundle-subflow@0.0.0:root");
  assert.equal(b.flows.child.id, "bundle-subflow@0.0.0:child");
  assert.equal(data("sub").subflowId, "bundle-subflow@0.0.0:child");
  assert.equal(data("sub2").flowId, "bundle-subflow@0.0.0:root");
  assert.equal(data("sub2").workflowId, "elsewhere:x");
  assert.equal(data("sub3").workflow_id, "bundle-subflow@0.0.0:child");
  assert.deepEqual(data("node 7").agentConfig, {
    tools: ["read_file"],
    _react_workflow_id: "visual_react_agent_bundle-subflow_0_0_0_root_node_7",
  });
});

Deno.test("reader: our example bundles load and are namespaced", async () => {
  const b = await readFlowBundle(await Deno.readFile(join(OUR_BUNDLES, "assistant@1.0.0.flow")));
  assert.equal(b.ref, "assistant@1.0.0");
  const agent = b.flows.assistant.nodes.find((n) => n.type === "agent")!;
  assert.equal(
    (agent.data.agentConfig as Record<string, unknown>)._react_workflow_id,
    "visual_react_agent_assistant_1_0_0_assistant_agent",
  );
  for await (const entry of Deno.readDir(OUR_BUNDLES)) {
    if (!entry.name.endsWith(".flow")) continue;
    const bundle = await readFlowBundle(await Deno.readFile(join(OUR_BUNDLES, entry.name)));
    assert.equal(`${bundle.ref}.flow`, entry.name);
    for (const [fid, flow] of Object.entries(bundle.flows) as [string, VisualFlow][]) {
      assert.equal(flow.id, `${bundle.ref}:${fid}`);
    }
  }
});

compatTest("reader: real upstream bundles load and are namespaced", async () => {
  const UPSTREAM_BUNDLES = upstreamBundlesDir();
  const b = await readFlowBundle(await Deno.readFile(join(UPSTREAM_BUNDLES, "basic-agent@0.0.1.flow")));
  assert.equal(b.ref, "basic-agent@0.0.1");
  assert.equal(b.sha256.slice(0, 16), "04636bc12b460630");
  const main = b.flows["81795ea9"];
  assert.equal(main.id, "basic-agent@0.0.1:81795ea9");
  const subflows = main.nodes.filter((n) => n.type === "subflow").map((n) => n.data.subflowId);
  assert.deepEqual(subflows, ["basic-agent@0.0.1:15f19f7f", "basic-agent@0.0.1:15f19f7f"]);
  const agent = main.nodes.find((n) => n.type === "agent")!;
  assert.equal(
    (agent.data.agentConfig as Record<string, unknown>)._react_workflow_id,
    "visual_react_agent_basic-agent_0_0_1_81795ea9_node-2",
  );

  const legacy = await readFlowBundle(await Deno.readFile(join(UPSTREAM_BUNDLES, "basic-agent.flow")));
  assert.equal(legacy.ref, "basic-agent@0.0.0", "identity comes from the manifest, not the file name");

  const draft = await readFlowBundle(
    await Deno.readFile(
      join(UPSTREAM_BUNDLES, "Untitled-Flow@draft.7dc05dbc-58d5-4175-b58f-3531f5548246.flow"),
    ),
  );
  assert.equal(draft.manifest.bundle_version, "draft.7dc05dbc-58d5-4175-b58f-3531f5548246");
  for await (const entry of Deno.readDir(UPSTREAM_BUNDLES)) {
    if (!entry.name.endsWith(".flow")) continue;
    const bundle = await readFlowBundle(await Deno.readFile(join(UPSTREAM_BUNDLES, entry.name)));
    for (const [fid, flow] of Object.entries(bundle.flows) as [string, VisualFlow][]) {
      assert.equal(flow.id, `${bundle.ref}:${fid}`);
    }
  }
});
