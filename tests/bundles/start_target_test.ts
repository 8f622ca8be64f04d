import assert from "node:assert/strict";
import { join } from "node:path";
import { openBundleHost } from "../../src/bundles/host.ts";
import {
  resolveStartTarget,
  StartTargetError,
  type StartTargetRequest,
} from "../../src/bundles/start_target.ts";
import type { BundleHost } from "../../src/bundles/types.ts";
import { setLogLevel } from "../../src/util/log.ts";
import { makeBundle, simpleFlow, tempDir } from "./fixtures.ts";

setLogLevel("none");

async function hostWith(dir: string, bundles: Record<string, Uint8Array>): Promise<BundleHost> {
  const flowsDir = join(dir, "flows");
  await Deno.mkdir(flowsDir, { recursive: true });
  for (const [name, bytes] of Object.entries(bundles)) await Deno.writeFile(join(flowsDir, name), bytes);
  return await openBundleHost({ flowsDir, dataDir: join(dir, "data"), maxBundleBytes: 1 << 20 });
}

function fails(host: BundleHost, req: StartTargetRequest, status: number, message: string | RegExp): void {
  assert.throws(() => resolveStartTarget(host, req), (err: unknown) => {
    assert.ok(err instanceof StartTargetError, `expected StartTargetError, got ${err}`);
    assert.equal(err.status, status);
    if (typeof message === "string") assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

const ok = (host: BundleHost, req: StartTargetRequest) => {
  const t = resolveStartTarget(host, req);
  return { workflowId: t.workflowId, flowId: t.flowId, ref: t.bundle?.ref ?? null };
};

const twoFlows = () => ({ a: simpleFlow("a"), b: simpleFlow("b") });

Deno.test("start target: single bundle, entrypoints and namespaced flow ids", async () => {
  await using tmp = await tempDir();
  const host = await hostWith(tmp.path, {
    "demo1.flow": makeBundle({ id: "demo", version: "0.0.1" }),
    "demo2.flow": makeBundle({ id: "demo", version: "0.0.2" }),
  });
  assert.deepEqual(ok(host, { bundle_id: "demo" }), {
    workflowId: "demo@0.0.2:root",
    flowId: "root",
    ref: "demo@0.0.2",
  });
  assert.deepEqual(ok(host, { flow_id: "root" }).workflowId, "demo@0.0.2:root", "default bundle");
  assert.equal(ok(host, { bundle_id: "demo@0.0.1" }).workflowId, "demo@0.0.1:root");
  assert.equal(ok(host, { bundle_id: "demo", bundle_version: "0.0.1" }).workflowId, "demo@0.0.1:root");
  assert.equal(ok(host, { flow_id: "demo@0.0.1:root" }).workflowId, "demo@0.0.1:root");
  assert.equal(ok(host, { flow_id: "demo:root" }).workflowId, "demo@0.0.2:root");
  assert.equal(ok(host, { bundle_id: "demo", flow_id: "demo@0.0.1:root" }).workflowId, "demo@0.0.1:root");

  fails(host, {}, 400, "flow_id is required (or provide bundle_id to start a bundle entrypoint)");
  fails(host, { bundle_id: "  ", flow_id: "" }, 400, /flow_id is required/);
  fails(host, { bundle_id: "nope" }, 404, "Bundle 'nope' not found");
  fails(host, { bundle_id: "demo", bundle_version: "9.9.9" }, 404, "Bundle 'demo@9.9.9' not found");
  fails(host, { bundle_id: "demo", flow_id: "missing" }, 404, "Workflow 'demo@0.0.2:missing' not found");
  fails(
    host,
    { bundle_id: "demo@0.0.1", bundle_version: "0.0.2" },
    400,
    "bundle_version conflicts with bundle_id (bundle_id already includes '@version')",
  );
  fails(
    host,
    { bundle_id: "demo", bundle_version: "0.0.1", flow_id: "demo@0.0.2:root" },
    400,
    /version conflicts/,
  );
});

Deno.test("start target: several bundles and entrypoints", async () => {
  await using tmp = await tempDir();
  const host = await hostWith(tmp.path, {
    "multi.flow": makeBundle({ id: "multi", flows: twoFlows(), entrypoints: ["a", "b"] }),
    "picked.flow": makeBundle({
      id: "picked",
      flows: twoFlows(),
      entrypoints: ["a", "b"],
      defaultEntrypoint: "b",
    }),
  });
  assert.equal(ok(host, { bundle_id: "picked" }).workflowId, "picked@0.0.0:b");
  assert.equal(ok(host, { bundle_id: "multi", flow_id: "a" }).workflowId, "multi@0.0.0:a");
  fails(
    host,
    { bundle_id: "multi" },
    400,
    "Failed to start run: Bundle 'multi@0.0.0' has 2 entrypoints; specify flow_id (one of: a, b) " +
      "(or set manifest.default_entrypoint)",
  );
  fails(
    host,
    { flow_id: "a" },
    400,
    /^Failed to start run: bundle_id is required when multiple bundles are loaded/,
  );
  fails(
    host,
    { bundle_id: "multi", flow_id: "picked:a" },
    400,
    "flow_id bundle prefix does not match bundle_id",
  );
});

Deno.test("start target: dynamic workflow ids are used verbatim", async () => {
  await using tmp = await tempDir();
  const host = await hostWith(tmp.path, { "demo.flow": makeBundle({ id: "demo" }) });
  await host.saveDynamicFlow(simpleFlow("scheduled:42"));
  assert.deepEqual(ok(host, { flow_id: "scheduled:42" }), {
    workflowId: "scheduled:42",
    flowId: "scheduled:42",
    ref: null,
  });
  fails(host, { flow_id: "scheduled:43" }, 404, "Workflow 'scheduled:43' not found");
  fails(host, { flow_id: "scheduled:42", bundle_id: "demo" }, 400, /cannot be combined with bundle_id/);
});

Deno.test("start target: deprecated workflows are refused with 409", async () => {
  await using tmp = await tempDir();
  const host = await hostWith(tmp.path, {
    "multi.flow": makeBundle({
      id: "multi",
      flows: twoFlows(),
      entrypoints: ["a", "b"],
      defaultEntrypoint: "a",
    }),
  });
  await host.deprecations.deprecate("multi", "a", "replaced by b");
  fails(host, { bundle_id: "multi" }, 409, "Workflow 'multi:a' is deprecated: replaced by b");
  assert.equal(ok(host, { bundle_id: "multi", flow_id: "b" }).workflowId, "multi@0.0.0:b");
  await host.deprecations.deprecate("multi", "*");
  fails(host, { bundle_id: "multi", flow_id: "b" }, 409, "Workflow 'multi:b' is deprecated");
});
