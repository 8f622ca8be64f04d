/** Bundle routes over real HTTP: list, inspect, flows, upload/remove, reload, deprecation, drafts. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeBundle, startEndFlow } from "../helpers/bundles.ts";
import { DEMO, postJson, startRun, startServer, type TestServer, waitForRun } from "./harness.ts";

function uploadForm(bytes: Uint8Array, fields: Record<string, string> = {}, filename = "b.flow"): FormData {
  const form = new FormData();
  form.append("file", new Blob([bytes as Uint8Array<ArrayBuffer>]), filename);
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return form;
}

const upload = (s: TestServer, form: FormData) =>
  s.json("/api/gateway/bundles/upload", { method: "POST", body: form });

Deno.test("bundle list and inspect (scenarios 11, 12)", async () => {
  const s = await startServer();
  try {
    const list = await s.json("/api/gateway/bundles");
    assert.equal(list.status, 200);
    assert.equal(list.body.default_bundle_id, "demo");
    const item = list.body.items[0];
    assert.equal(item.bundle_id, "demo");
    assert.equal(item.bundle_version, "0.0.1");
    assert.equal(item.bundle_ref, "demo@0.0.1");
    assert.equal(item.is_draft, false);
    assert.equal(item.entrypoints[0].workflow_id, "demo@0.0.1:root");
    // No catalog-promotion route exists here, so none is advertised (it would answer 404).
    assert.equal(item.actions.catalog_promote_endpoint, null);

    const detail = await s.json("/api/gateway/bundles/demo");
    assert.equal(detail.status, 200);
    assert.deepEqual(detail.body.flows, ["root"]);
    assert.ok(Array.isArray(detail.body.entrypoints[0].inputs));
    assert.equal(detail.body.entrypoints[0].node_index.start.type, "on_flow_start");
    assert.equal((await s.json("/api/gateway/bundles/demo@0.0.1")).status, 200);
    const conflict = await s.json("/api/gateway/bundles/demo@0.0.1?bundle_version=9.9.9");
    assert.equal(conflict.status, 400);
    assert.match(conflict.body.detail, /bundle_version conflicts with bundle_id/);

    const flow = await s.json("/api/gateway/bundles/demo/flows/root");
    assert.equal(flow.status, 200);
    assert.ok(Array.isArray(flow.body.flow.nodes));
    assert.equal(flow.body.workflow_id, "demo@0.0.1:root");
    assert.equal((await s.json("/api/gateway/bundles/demo/flows/demo@0.0.1:root")).status, 200);
    const wrongPrefix = await s.json("/api/gateway/bundles/demo/flows/other:root");
    assert.equal(wrongPrefix.status, 400);
    assert.equal(wrongPrefix.body.detail, "flow_id bundle prefix does not match bundle_id");
    const noFlow = await s.json("/api/gateway/bundles/demo/flows/zzz");
    assert.equal(noFlow.status, 404);
    assert.equal(noFlow.body.detail, "Flow 'zzz' not found in bundle 'demo@0.0.1'");

    const schema = await s.json("/api/gateway/bundles/demo/flows/root/input_schema");
    assert.equal(schema.status, 200);
    assert.equal(schema.body.version, 1);
    assert.equal(schema.body.input_data_schema.type, "object");

    const nope = await s.json("/api/gateway/bundles/nope");
    assert.equal(nope.status, 404);
    assert.deepEqual(nope.body, { detail: "Bundle 'nope' not found" });

    const wf = await s.json("/api/gateway/workflows/demo@0.0.1:root/flow");
    assert.equal(wf.status, 200);
    assert.equal(wf.body.bundle_ref, "demo@0.0.1");
    const unknownWf = await s.json("/api/gateway/workflows/scheduled:nope/flow");
    assert.equal(unknownWf.status, 404);
    assert.equal(unknownWf.body.detail, "Workflow 'scheduled:nope' not found");
  } finally {
    await s.close();
  }
});

Deno.test("upload, re-upload, remove, reload (scenario 13) and upload errors", async () => {
  const s = await startServer({ env: { ABSTRACTGATEWAY_MAX_BUNDLE_BYTES: "20000" } });
  try {
    const demo2 = makeBundle({ bundleId: "demo2", version: "0.1.0", flows: { root: startEndFlow("root") } });
    const ok = await upload(s, uploadForm(demo2, { overwrite: "false", reload: "true" }));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.ok, true);
    assert.equal(ok.body.bundle_ref, "demo2@0.1.0");
    assert.match(ok.body.sha256, /^[0-9a-f]{64}$/);
    assert.equal(ok.body.gateway_reloaded, true);
    assert.deepEqual(ok.body.entrypoints[0], {
      flow_id: "root",
      name: "root",
      description: "",
      interfaces: [],
    });
    await Deno.stat(join(s.flowsDir, "demo2@0.1.0.flow"));
    const all = await s.json("/api/gateway/bundles?all_versions=true");
    assert.ok(all.body.items.some((i: { bundle_ref: string }) => i.bundle_ref === "demo2@0.1.0"));

    const again = await upload(s, uploadForm(demo2));
    assert.equal(again.status, 400);
    assert.match(again.body.detail, /already installed/);
    const overwritten = await upload(s, uploadForm(demo2, { overwrite: "true" }));
    assert.equal(overwritten.status, 200);

    const notZip = await upload(s, uploadForm(new TextEncoder().encode("this is not a zip")));
    assert.equal(notZip.status, 400);
    assert.equal(typeof notZip.body.detail, "string");
    const empty = await upload(s, uploadForm(new Uint8Array()));
    assert.equal(empty.status, 400);
    assert.equal(empty.body.detail, "Bundle content is empty");
    const noManifest = await upload(
      s,
      uploadForm(makeBundle({
        bundleId: "x",
        version: "1",
        flows: { root: startEndFlow("root") },
        manifest: { bundle_format_version: "7" },
      })),
    );
    assert.equal(noManifest.status, 400);
    const big = await upload(s, uploadForm(crypto.getRandomValues(new Uint8Array(30000))));
    assert.equal(big.status, 413);
    assert.equal(big.body.detail, "Bundle too large (30000 bytes > 20000 bytes)");
    // Sent chunked (no Content-Length): streamed to the spool file, which stops growing at the cap.
    const encoded = new Response(uploadForm(crypto.getRandomValues(new Uint8Array(30000))));
    const chunked = await s.json("/api/gateway/bundles/upload", {
      method: "POST",
      headers: { "Content-Type": encoded.headers.get("content-type")! },
      body: encoded.body,
    });
    assert.equal(chunked.status, 413);
    assert.equal(chunked.body.detail, "Bundle too large (30000 bytes > 20000 bytes)");
    const noFile = new FormData();
    noFile.append("overwrite", "true");
    const missingFile = await upload(s, noFile);
    assert.equal(missingFile.status, 400);
    assert.match(missingFile.body.detail, /'file'/);
    const jsonUpload = await s.json("/api/gateway/bundles/upload", postJson({ file: "x" }));
    assert.equal(jsonUpload.status, 400);
    assert.match(jsonUpload.body.detail, /multipart\/form-data/);

    const removed = await s.json("/api/gateway/bundles/demo2?bundle_version=0.1.0", { method: "DELETE" });
    assert.equal(removed.status, 200);
    assert.equal(removed.body.removed, 1);
    assert.equal(removed.body.bundle_ref, "demo2@0.1.0");
    const removedAgain = await s.json("/api/gateway/bundles/demo2?bundle_version=0.1.0", {
      method: "DELETE",
    });
    assert.equal(removedAgain.status, 404);
    assert.deepEqual(removedAgain.body, { detail: "Bundle 'demo2@0.1.0' not found" });

    const reload = await s.json("/api/gateway/bundles/reload", { method: "POST" });
    assert.equal(reload.status, 200);
    assert.deepEqual(reload.body, { ok: true, bundle_ids: ["demo"], count: 1 });
  } finally {
    await s.close();
  }
});

Deno.test("deprecation hides and blocks a workflow until undeprecated (scenario 34)", async () => {
  const s = await startServer();
  try {
    const dep = await s.json(
      "/api/gateway/bundles/demo/deprecate",
      postJson({ flow_id: "root", reason: "retired" }),
    );
    assert.equal(dep.status, 200);
    assert.equal(dep.body.flow_id, "root");
    assert.equal(dep.body.reason, "retired");
    assert.equal((await s.json("/api/gateway/bundles")).body.items.length, 0);
    const shown = await s.json("/api/gateway/bundles?include_deprecated=true");
    assert.equal(shown.body.items[0].entrypoints[0].deprecated, true);
    const start = await s.json("/api/gateway/runs/start", postJson({ bundle_id: "demo" }));
    assert.equal(start.status, 409);
    assert.equal(start.body.detail, "Workflow 'demo:root' is deprecated: retired");
    const sched = await s.json(
      "/api/gateway/runs/schedule",
      postJson({ bundle_id: "demo", flow_id: "root" }),
    );
    assert.equal(sched.status, 409);
    const unknown = await s.json("/api/gateway/bundles/demo/deprecate", postJson({ flow_id: "zzz" }));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.detail, "Entrypoint 'demo:zzz' not found");
    const undep = await s.json("/api/gateway/bundles/demo/undeprecate", postJson({ flow_id: "root" }));
    assert.deepEqual(undep.body, { ok: true, bundle_id: "demo", flow_id: "root", removed: true });
    assert.ok(await startRun(s, { bundle_id: "demo" }));
  } finally {
    await s.close();
  }
});

Deno.test("drafts: listed apart, need the draft_test lifecycle, purgeable (scenarios 35, 36)", async () => {
  const draft = {
    bundleId: "demo",
    version: "draft.x",
    createdAt: "2026-06-01T00:00:00+00:00",
    flows: { root: startEndFlow("root") },
  };
  const s = await startServer({ bundles: [DEMO, draft] });
  try {
    const list = await s.json("/api/gateway/bundles");
    assert.equal(list.body.items[0].bundle_version, "0.0.1");
    assert.equal(list.body.items[0].latest_published_version, "0.0.1");
    const all = await s.json("/api/gateway/bundles?all_versions=true&include_drafts=true");
    const row = all.body.items.find((i: { bundle_version: string }) => i.bundle_version === "draft.x");
    assert.equal(row.version_channel, "draft");

    const refused = await s.json("/api/gateway/runs/start", postJson({ bundle_id: "demo@draft.x" }));
    assert.equal(refused.status, 400);
    assert.match(refused.body.detail, /run_lifecycle\.purpose='draft_test'/);
    const runId = await startRun(s, {
      bundle_id: "demo@draft.x",
      run_lifecycle: { purpose: "draft_test", retention: { mode: "ephemeral", ttl_s: "3600" }, junk: 1 },
    });
    const summary = await s.json(`/api/gateway/runs/${runId}`);
    assert.equal(summary.body.is_draft, true);
    assert.deepEqual(summary.body.run_lifecycle, {
      purpose: "draft_test",
      retention: { mode: "ephemeral", ttl_s: 3600 },
    });
    const hidden = await s.json("/api/gateway/runs");
    assert.ok(!hidden.body.items.some((r: { run_id: string }) => r.run_id === runId));
    const shown = await s.json("/api/gateway/runs?include_drafts=true");
    assert.ok(shown.body.items.some((r: { run_id: string }) => r.run_id === runId));

    // Scenario 36: purge the completed draft run; the published one is untouched.
    const published = await startRun(s, { bundle_id: "demo" });
    await waitForRun(s, runId);
    await waitForRun(s, published);
    const notYet = await s.json("/api/gateway/runs/purge_drafts", postJson({ dry_run: true }));
    assert.equal(notYet.body.eligible, 0);
    assert.equal(notYet.body.items[0].reason, "not_expired");
    const dry = await s.json("/api/gateway/runs/purge_drafts", postJson({ dry_run: true, force: true }));
    assert.equal(dry.status, 200);
    assert.equal(dry.body.eligible, 1);
    assert.equal(dry.body.purged, 0);
    assert.equal(dry.body.items[0].would_delete.runs, 1);
    assert.equal((await s.json(`/api/gateway/runs/${runId}`)).status, 200);
    const real = await s.json("/api/gateway/runs/purge_drafts", postJson({ dry_run: false, force: true }));
    assert.equal(real.body.purged, 1);
    assert.equal(real.body.items[0].purge.deleted.runs, 1);
    assert.equal(real.body.items[0].purge.deleted.workspaces, 1);
    assert.ok(real.body.items[0].purge.deleted.ledger_records > 0);
    assert.equal((await s.json(`/api/gateway/runs/${runId}`)).status, 404);
    assert.equal((await s.json(`/api/gateway/runs/${runId}/ledger`)).status, 404);
    assert.equal((await s.json(`/api/gateway/runs/${published}`)).body.status, "completed");
    const extra = await s.json("/api/gateway/runs/purge_drafts", postJson({ dry_run: true, nope: 1 }));
    assert.equal(extra.status, 422);
    const missing = await s.json("/api/gateway/runs/purge_drafts", postJson({ run_ids: ["gone"] }));
    assert.equal(missing.body.items[0].reason, "missing");
  } finally {
    await s.close();
  }
});
