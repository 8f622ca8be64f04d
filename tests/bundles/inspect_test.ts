import assert from "node:assert/strict";
import { join } from "node:path";
import { openBundleHost } from "../../src/bundles/host.ts";
import {
  bundleDetail,
  bundleList,
  entrypointInputs,
  inputSchema,
  nodeIndex,
  pinTypeSchema,
} from "../../src/bundles/inspect.ts";
import { readFlowBundle } from "../../src/bundles/reader.ts";
import type { BundleHost } from "../../src/bundles/types.ts";
import { setLogLevel } from "../../src/util/log.ts";
import { compatTest, upstreamBundlesDir } from "../helpers/compat.ts";
import { OUR_BUNDLES } from "../helpers/paths.ts";
import { makeBundle, simpleFlow, tempDir } from "./fixtures.ts";

setLogLevel("none");

async function hostWith(dir: string, bundles: Record<string, Uint8Array>): Promise<BundleHost> {
  const flowsDir = join(dir, "flows");
  await Deno.mkdir(flowsDir, { recursive: true });
  for (const [name, bytes] of Object.entries(bundles)) await Deno.writeFile(join(flowsDir, name), bytes);
  return await openBundleHost({ flowsDir, dataDir: join(dir, "data"), maxBundleBytes: 1 << 20 });
}

/** The prompt and max_iterations inputs every agent entrypoint has. */
function assertAgentInputs(schema: ReturnType<typeof inputSchema>, maxIterations: number): void {
  assert.equal(schema.defaults.max_iterations, maxIterations);
  const props = schema.input_data_schema.properties;
  assert.deepEqual(props.prompt, { type: "string", "x-abstract-type": "string", title: "prompt" });
  assert.deepEqual(props.max_iterations, {
    type: "number",
    "x-abstract-type": "number",
    title: "max_iterations",
    default: maxIterations,
  });
}

Deno.test("inspect: entrypoint inputs, node index and input schema of our agent bundle", async () => {
  const b = await readFlowBundle(await Deno.readFile(join(OUR_BUNDLES, "assistant@1.0.0.flow")));
  const flow = b.flows.assistant;
  const inputs = entrypointInputs(flow);
  assert.deepEqual(inputs.map((i) => i.id), [
    "prompt",
    "provider",
    "model",
    "system",
    "tools",
    "max_iterations",
    "use_context",
  ]);
  assert.deepEqual(inputs[1], { id: "provider", label: "provider", type: "provider", default: "" });
  assert.deepEqual(nodeIndex(flow).agent, { type: "agent", label: "Assistant", headerColor: "#4488FF" });
  const schema = inputSchema(flow);
  assertAgentInputs(schema, 8);
  assert.deepEqual(schema.input_data_schema.required, ["prompt"]);
  assert.equal(schema.inputs.find((i) => i.id === "tools")?.required, false);
});

compatTest("inspect: entrypoint inputs, node index and input schema of a real bundle", async () => {
  const b = await readFlowBundle(await Deno.readFile(join(upstreamBundlesDir(), "basic-agent@0.0.1.flow")));
  const flow = b.flows["81795ea9"];
  const inputs = entrypointInputs(flow);
  assert.deepEqual(inputs.map((i) => i.id), [
    "use_context",
    "context",
    "provider",
    "model",
    "system",
    "prompt",
    "tools",
    "max_iterations",
    "max_in_tokens",
    "temperature",
    "seed",
    "resp_schema",
  ]);
  assert.deepEqual(inputs[2], { id: "provider", label: "provider", type: "provider", default: "lmstudio" });
  assert.deepEqual(inputs[5], { id: "prompt", label: "prompt", type: "string" });

  assert.deepEqual(nodeIndex(flow)["node-2"], {
    type: "agent",
    label: "Agentic Loop",
    headerColor: "#4488FF",
  });

  const schema = inputSchema(flow);
  assert.equal(schema.version, 1);
  assertAgentInputs(schema, 20);
  const props = schema.input_data_schema.properties;
  assert.deepEqual(props.tools.type, "array");
  assert.deepEqual(props.context, { type: "object", "x-abstract-type": "object", title: "context" });
  assert.deepEqual(schema.input_data_schema.required, [
    "context",
    "system",
    "prompt",
    "max_in_tokens",
    "resp_schema",
  ]);
  assert.equal(schema.input_data_schema.additionalProperties, true);
  assert.equal(schema.inputs.find((i) => i.id === "prompt")?.required, true);
  assert.equal(schema.inputs.find((i) => i.id === "seed")?.required, false);
});

Deno.test("inspect: pin types map to JSON Schema", () => {
  const t = (type: string) => {
    const { "x-abstract-type": raw, ...rest } = pinTypeSchema(type);
    assert.equal(raw, type);
    return rest;
  };
  for (
    const s of [
      "string",
      "text",
      "markdown",
      "path",
      "file",
      "directory",
      "provider",
      "model",
      "provider_image",
    ]
  ) {
    assert.deepEqual(t(s), { type: "string" }, s);
  }
  assert.deepEqual(t("float"), { type: "number" });
  assert.deepEqual(t("int"), { type: "integer" });
  assert.deepEqual(t("bool"), { type: "boolean" });
  assert.deepEqual(t("list"), { type: "array" });
  assert.deepEqual(t("json"), { type: "object" });
  assert.deepEqual(t("any"), {});
  assert.deepEqual(t("artifact_image"), {
    type: "object",
    properties: { $artifact: { type: "string" } },
    required: ["$artifact"],
    additionalProperties: true,
  });
  assert.equal(t("artifacts").type, "array");
  assert.deepEqual((t("artifacts_audio").items as Record<string, unknown>).required, ["$artifact"]);
});

Deno.test("inspect: a flow without start pins has an empty schema (peer shape)", () => {
  const schema = inputSchema(simpleFlow("f"));
  assert.deepEqual(schema, {
    version: 1,
    inputs: [],
    defaults: {},
    input_data_schema: { type: "object", additionalProperties: true, properties: {} },
  });
});

Deno.test("inspect: bundle detail matches the upstream response shape", async () => {
  await using tmp = await tempDir();
  const host = await hostWith(tmp.path, {
    "demo.flow": makeBundle({
      id: "demo",
      version: "0.0.1",
      createdAt: "2026-01-24T00:00:00Z",
      defaultEntrypoint: "root",
      metadata: { test: true },
    }),
  });
  const detail = bundleDetail(host.get("demo")!, host.deprecations);
  assert.deepEqual(detail, {
    bundle_id: "demo",
    bundle_version: "0.0.1",
    bundle_ref: "demo@0.0.1",
    created_at: "2026-01-24T00:00:00Z",
    default_entrypoint: "root",
    entrypoints: [{
      flow_id: "root",
      workflow_id: "demo@0.0.1:root",
      name: "root",
      description: "",
      interfaces: [],
      inputs: [],
      node_index: {
        start: { type: "on_flow_start", label: "On Flow Start", headerColor: "#C0392B" },
        end: { type: "on_flow_end", label: "On Flow End" },
      },
      deprecated: false,
      deprecated_at: null,
      deprecated_reason: null,
    }],
    flows: ["root"],
    metadata: { test: true },
  });
});

Deno.test("inspect: bundle list rows, drafts, versions and deprecations", async () => {
  await using tmp = await tempDir();
  const host = await hostWith(tmp.path, {
    "a1.flow": makeBundle({ id: "alpha", version: "0.0.1" }),
    "a2.flow": makeBundle({ id: "alpha", version: "0.0.2" }),
    "a3.flow": makeBundle({ id: "alpha", version: "draft.x", createdAt: "2027-01-01T00:00:00Z" }),
    "d.flow": makeBundle({ id: "drafty", version: "draft.1" }),
  });
  const q = { allVersions: false, includeDrafts: false, includeDeprecated: false };
  const refs = (r: { items: Record<string, unknown>[] }) => r.items.map((i) => i.bundle_ref);

  const plain = bundleList(host, host.deprecations, q);
  assert.deepEqual(refs(plain), ["alpha@0.0.2"]);
  assert.equal(plain.default_bundle_id, null);
  const item = plain.items[0];
  assert.equal(item.registry_scope, "private");
  assert.equal(item.version_channel, "published");
  assert.equal(item.is_draft, false);
  assert.equal(item.is_published, true);
  assert.equal(item.latest_published_version, "0.0.2");
  assert.equal(item.latest_any_version, "draft.x");
  assert.deepEqual(item.actions, {
    can_run: true,
    can_upload: true,
    can_remove: true,
    can_deprecate: true,
    catalog_promote_endpoint: null,
  });
  assert.deepEqual((item.entrypoints as unknown[])[0], {
    flow_id: "root",
    name: "root",
    description: "",
    interfaces: [],
    workflow_id: "alpha@0.0.2:root",
    deprecated: false,
    deprecated_at: null,
    deprecated_reason: null,
  });

  assert.deepEqual(refs(bundleList(host, host.deprecations, { ...q, includeDrafts: true })), [
    "alpha@0.0.2",
    "drafty@draft.1",
  ]);
  assert.deepEqual(refs(bundleList(host, host.deprecations, { ...q, allVersions: true })), [
    "alpha@0.0.1",
    "alpha@0.0.2",
  ]);
  assert.deepEqual(
    refs(bundleList(host, host.deprecations, { ...q, allVersions: true, includeDrafts: true })),
    [
      "alpha@0.0.1",
      "alpha@0.0.2",
      "alpha@draft.x",
      "drafty@draft.1",
    ],
  );

  await host.deprecations.deprecate("alpha", "root", "use beta");
  assert.deepEqual(refs(bundleList(host, host.deprecations, q)), []);
  const withDep = bundleList(host, host.deprecations, { ...q, includeDeprecated: true });
  const ep = (withDep.items[0].entrypoints as Record<string, unknown>[])[0];
  assert.equal(ep.deprecated, true);
  assert.equal(ep.deprecated_reason, "use beta");
  assert.equal(typeof ep.deprecated_at, "string");
});

Deno.test("inspect: default_bundle_id is hidden when its only bundle is not visible", async () => {
  await using tmp = await tempDir();
  const host = await hostWith(tmp.path, { "only.flow": makeBundle({ id: "only" }) });
  const q = { allVersions: false, includeDrafts: false, includeDeprecated: false };
  assert.equal(bundleList(host, host.deprecations, q).default_bundle_id, "only");
  await host.deprecations.deprecate("only", "*");
  assert.equal(bundleList(host, host.deprecations, q).default_bundle_id, null);
  assert.equal(
    bundleList(host, host.deprecations, { ...q, includeDeprecated: true }).default_bundle_id,
    "only",
  );
});
