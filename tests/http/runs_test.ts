/** Run routes over real HTTP: start (and its errors), summary, list, ledger replay, batch, input, history, artifacts. */
import assert from "node:assert/strict";
import { startEndFlow } from "../helpers/bundles.ts";
import { DEMO, postJson, startRun, startServer, waitForRun } from "./harness.ts";

const TWO = {
  bundleId: "two",
  version: "1.0.0",
  flows: { root: startEndFlow("root"), root2: startEndFlow("root2") },
};
const TWO_DEFAULT = { ...TWO, bundleId: "twodef", defaultEntrypoint: "root2" };

for (const backend of ["file", "sqlite"]) {
  Deno.test(`${backend} store: start by bundle, summary, list, ledger paging, record shape (14, 17, 18)`, async () => {
    const s = await startServer({ env: { ABSTRACTGATEWAY_STORE_BACKEND: backend } });
    try {
      const runId = await startRun(s, { bundle_id: "demo", input_data: {} });
      const run = await waitForRun(s, runId);
      assert.equal(run.status, "completed");
      assert.equal(run.workflow_id, "demo@0.0.1:root");
      assert.equal(run.session_id, runId);
      assert.equal(run.actor_id, "gateway");
      assert.equal(run.paused, false);
      assert.equal(run.is_scheduled, false);

      const list = await s.json("/api/gateway/runs?limit=10");
      const item = list.body.items.find((i: { run_id: string }) => i.run_id === runId);
      assert.ok(item.ledger_len >= 1);
      assert.equal(item.current_node, null);
      const metrics = await s.json("/api/gateway/runs?include_metrics=true&include_ledger_len=false");
      assert.equal(typeof metrics.body.items[0].steps, "number");
      assert.equal(metrics.body.items[0].ledger_len, undefined);
      assert.equal((await s.json("/api/gateway/runs?status=completed")).body.items.length, 1);
      assert.equal((await s.json("/api/gateway/runs?status=waiting")).body.items.length, 0);

      const full = await s.json(`/api/gateway/runs/${runId}/ledger?after=0&limit=200`);
      assert.equal(full.status, 200);
      const n = full.body.items.length;
      assert.ok(n >= 1);
      assert.equal(full.body.next_after, n);
      for (const rec of full.body.items) {
        for (const key of ["run_id", "step_id", "node_id", "status", "started_at"]) {
          assert.ok(key in rec, key);
        }
        assert.ok(["started", "completed", "waiting", "failed"].includes(rec.status));
      }
      assert.ok(full.body.items.some((r: { status: string }) => r.status === "completed"));
      const tail = await s.json(`/api/gateway/runs/${runId}/ledger?after=${n}`);
      assert.deepEqual(tail.body, { items: [], next_after: n });
      const paged = [];
      for (let after = 0; after < n;) {
        const page = await s.json(`/api/gateway/runs/${runId}/ledger?after=${after}&limit=1`);
        paged.push(...page.body.items);
        after = page.body.next_after;
      }
      assert.deepEqual(paged, full.body.items);
      assert.deepEqual((await s.json(`/api/gateway/runs/${runId}/ledger?after=999`)).body, {
        items: [],
        next_after: 999,
      });
      for (const q of ["after=-1", "limit=0", "limit=2001", "after=x"]) {
        assert.equal((await s.json(`/api/gateway/runs/${runId}/ledger?${q}`)).status, 422, q);
      }
    } finally {
      await s.close();
    }
  });
}

Deno.test("start errors and entrypoint selection (scenario 15)", async () => {
  const s = await startServer({ bundles: [DEMO, TWO, TWO_DEFAULT] });
  try {
    const empty = await s.json("/api/gateway/runs/start", postJson({}));
    assert.equal(empty.status, 400);
    assert.match(empty.body.detail, /flow_id is required/);
    const nope = await s.json("/api/gateway/runs/start", postJson({ bundle_id: "nope" }));
    assert.equal(nope.status, 404);
    assert.deepEqual(nope.body, { detail: "Bundle 'nope' not found" });
    const ambiguous = await s.json("/api/gateway/runs/start", postJson({ bundle_id: "two" }));
    assert.equal(ambiguous.status, 400);
    assert.match(ambiguous.body.detail, /flow_id/);
    assert.match(ambiguous.body.detail, /entrypoint/);
    const noBundle = await s.json("/api/gateway/runs/start", postJson({ flow_id: "root" }));
    assert.equal(noBundle.status, 400);
    assert.match(noBundle.body.detail, /bundle_id is required/);
    const unknownFlow = await s.json(
      "/api/gateway/runs/start",
      postJson({ bundle_id: "demo", flow_id: "zzz" }),
    );
    assert.equal(unknownFlow.status, 404);

    const byDefault = await startRun(s, { bundle_id: "twodef" });
    assert.match((await s.json(`/api/gateway/runs/${byDefault}`)).body.workflow_id, /:root2$/);
    const explicit = await startRun(s, { flow_id: "two@1.0.0:root2" });
    assert.equal((await s.json(`/api/gateway/runs/${explicit}`)).body.workflow_id, "two@1.0.0:root2");
    // Unknown extra fields are ignored, like upstream.
    assert.ok(await startRun(s, { bundle_id: "demo", bogus: 1 }));
  } finally {
    await s.close();
  }
});

Deno.test("idempotency key: a retried start returns the same run, even concurrently and after restart", async () => {
  const s = await startServer();
  try {
    const body = { bundle_id: "demo", idempotency_key: "k-1" };
    const ids = await Promise.all(Array.from({ length: 8 }, () => startRun(s, body)));
    assert.equal(new Set(ids).size, 1);
    const viaHeader = await s.json(
      "/api/gateway/runs/start",
      postJson({ bundle_id: "demo" }, { "Idempotency-Key": "k-1" }),
    );
    assert.equal(viaHeader.body.run_id, ids[0]);
    const reused = await s.json(
      "/api/gateway/runs/start",
      postJson({ bundle_id: "demo", idempotency_key: "k-1", input_data: { prompt: "other" } }),
    );
    assert.equal(reused.status, 409);
    assert.match(reused.body.detail, /idempotency_key 'k-1' was already used with a different request/);
    const other = await startRun(s, { bundle_id: "demo", idempotency_key: "k-2" });
    assert.notEqual(other, ids[0]);
    const roots = (await s.json("/api/gateway/runs?root_only=true")).body.items;
    assert.equal(roots.length, 2);
    // A failed start does not burn the key.
    const failed = await s.json(
      "/api/gateway/runs/start",
      postJson({ bundle_id: "nope", idempotency_key: "k-3" }),
    );
    assert.equal(failed.status, 404);
    assert.ok(await startRun(s, { bundle_id: "demo", idempotency_key: "k-3" }));
    const blank = await s.json(
      "/api/gateway/runs/start",
      postJson({ bundle_id: "demo", idempotency_key: " " }),
    );
    assert.equal(blank.status, 400);

    await s.restart();
    assert.equal(await startRun(s, body), ids[0]);
  } finally {
    await s.close();
  }
});

Deno.test("unknown runs are 404 on every run route (scenario 16); batch omits them (19)", async () => {
  const s = await startServer();
  try {
    for (
      const path of [
        "",
        "/ledger",
        "/ledger/stream",
        "/input_data",
        "/history_bundle",
        "/artifacts",
        "/artifacts/a1",
      ]
    ) {
      const res = await s.json(`/api/gateway/runs/missing${path}`);
      assert.equal(res.status, 404, path);
      assert.deepEqual(res.body, { detail: "Run 'missing' not found" }, path);
    }
    const a = await startRun(s, { bundle_id: "demo" });
    await waitForRun(s, a);
    const batch = await s.json(
      "/api/gateway/runs/ledger/batch",
      postJson({ limit: 200, runs: [{ run_id: a, after: 0 }, { run_id: "nope", after: 0 }, { run_id: "" }] }),
    );
    assert.equal(batch.status, 200);
    assert.deepEqual(Object.keys(batch.body.runs), [a]);
    assert.ok(batch.body.runs[a].items.length > 0);
    const next = batch.body.runs[a].next_after;
    const again = await s.json(
      "/api/gateway/runs/ledger/batch",
      postJson({ runs: [{ run_id: a, after: next }] }),
    );
    assert.deepEqual(again.body.runs[a], { items: [], next_after: next });
    const badLimit = await s.json("/api/gateway/runs/ledger/batch", postJson({ runs: [], limit: 0 }));
    assert.equal(badLimit.status, 422);
  } finally {
    await s.close();
  }
});

Deno.test("input data, history bundle, artifacts, session memory run, runtime hand-off (37, 38)", async () => {
  const s = await startServer({
    env: { ABSTRACTGATEWAY_PROMPT_CACHE: "1", ABSTRACTGATEWAY_MAX_ATTACHMENT_BYTES: "12345" },
  });
  try {
    const runId = await startRun(s, {
      bundle_id: "demo",
      session_id: "s1",
      thinking: "high",
      input_data: { prompt: "hi", _runtime: { workflow_policy: { x: 1 } } },
    });
    await waitForRun(s, runId);
    const stored = await s.gw.stores.runs.load(runId);
    const rt = stored!.vars._runtime as Record<string, unknown>;
    assert.deepEqual(rt.prompt_cache, { enabled: true, version: 1 });
    assert.equal(rt.max_attachment_bytes, 12345);
    assert.equal(rt.workflow_bundles_dir, s.flowsDir);
    assert.equal(rt.thinking, "high");
    assert.equal(rt.workflow_policy, undefined);

    const input = await s.json(`/api/gateway/runs/${runId}/input_data`);
    assert.equal(input.status, 200);
    assert.equal(input.body.run_id, runId);
    assert.equal(input.body.flow_id, "root");
    assert.equal(input.body.input_data.prompt, "hi");
    assert.ok(Object.keys(input.body.input_data).every((k) => !k.startsWith("_")));
    assert.ok(input.body.workspace.workspace_root);
    const marker = JSON.parse(
      await Deno.readTextFile(`${input.body.workspace.workspace_root}/.abstractgateway-workspace.json`),
    );
    assert.equal(marker.run_id, runId);

    const history = await s.json(`/api/gateway/runs/${runId}/history_bundle?include_session=true`);
    assert.equal(history.status, 200);
    assert.equal(history.body.version, 1);
    assert.equal(history.body.run.run_id, runId);
    const snapshotId = history.body.workflow_snapshot.artifact_id;
    const ledger = history.body.ledgers[runId];
    assert.equal(ledger.cursor_start, 1);
    assert.equal(ledger.cursor_end, ledger.total);
    assert.equal(history.body.session.session_id, "s1");
    assert.equal((await s.json(`/api/gateway/runs/${runId}/history_bundle?ledger_mode=bogus`)).status, 400);
    const tail = await s.json(`/api/gateway/runs/${runId}/history_bundle?ledger_max_items=1`);
    assert.equal(tail.body.ledgers[runId].items.length, 1);
    assert.equal(tail.body.ledgers[runId].cursor_start, ledger.total);

    const artifacts = await s.json(`/api/gateway/runs/${runId}/artifacts`);
    assert.equal(artifacts.status, 200);
    const snap = artifacts.body.items.find((a: { artifact_id: string }) => a.artifact_id === snapshotId);
    assert.ok(snap, "snapshot listed among the run's artifacts");
    assert.deepEqual(snap.ref, { $artifact: snapshotId });
    const meta = await s.json(`/api/gateway/runs/${runId}/artifacts/${snapshotId}`);
    assert.equal(meta.status, 200);
    assert.equal(meta.body.content_type, "application/json");
    const content = await s.fetch(`/api/gateway/runs/${runId}/artifacts/${snapshotId}/content`);
    assert.equal(content.status, 200);
    assert.equal(content.headers.get("content-type"), "application/json");
    assert.equal((await content.json()).id, "demo@0.0.1:root");
    assert.equal((await s.json(`/api/gateway/runs/${runId}/artifacts/bad%20id`)).status, 400);
    assert.deepEqual((await s.json(`/api/gateway/runs/${runId}/artifacts/nope`)).body, {
      detail: "Artifact 'nope' not found",
    });
    const other = await startRun(s, { bundle_id: "demo" });
    const hidden = await s.json(`/api/gateway/runs/${other}/artifacts/${snapshotId}`);
    assert.deepEqual(hidden.body, { detail: "artifact not found" });

    // Artifact refs in input_data are checked at start.
    const badRef = await s.json(
      "/api/gateway/runs/start",
      postJson({ bundle_id: "demo", input_data: { f: { $artifact: "zz" } } }),
    );
    assert.equal(badRef.status, 404);
    const goodRef = await s.json(
      "/api/gateway/runs/start",
      postJson({ bundle_id: "demo", input_data: { f: { $artifact: snapshotId, run_id: runId } } }),
    );
    assert.equal(goodRef.status, 200);

    const runs = await s.json("/api/gateway/runs?limit=200");
    assert.ok(!runs.body.items.some((r: { run_id: string }) => r.run_id === "session_memory_s1"));
    const mem = await s.json("/api/gateway/runs/session_memory_s1");
    assert.equal(mem.status, 200);
    assert.equal(mem.body.workflow_id, "__session_memory__");
    assert.equal((await s.json("/api/gateway/runs/session_memory_other/artifacts")).status, 200);
  } finally {
    await s.close();
  }
});

Deno.test("run list pages with next_cursor; bad cursor and registry_scope are 400", async () => {
  const s = await startServer({ runner: false });
  try {
    const started = [];
    for (let i = 0; i < 5; i++) {
      started.push(await startRun(s, { bundle_id: "demo", session_id: i < 2 ? "sx" : undefined }));
    }
    const full = (await s.json("/api/gateway/runs?limit=500")).body;
    assert.equal(full.items.length, 5);
    assert.equal(full.next_cursor, null);
    const paged = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const page = (await s.json(`/api/gateway/runs?limit=2${query}`)).body;
      assert.ok(page.items.length <= 2);
      paged.push(...page.items.map((r: { run_id: string }) => r.run_id));
      cursor = page.next_cursor;
    } while (cursor);
    assert.deepEqual(paged, full.items.map((r: { run_id: string }) => r.run_id));
    assert.deepEqual(new Set(paged), new Set(started));
    assert.equal((await s.json("/api/gateway/runs?cursor=%%%")).status, 400);
    const scoped = await s.json(
      "/api/gateway/runs/start",
      postJson({ bundle_id: "demo", registry_scope: "tenant_catalog" }),
    );
    assert.equal(scoped.status, 400);
    assert.match(scoped.body.detail, /registry_scope/);
    const badTs = await s.json(
      "/api/gateway/commands",
      postJson({ command_id: "t1", run_id: started[0], type: "pause", ts: "yesterday" }),
    );
    assert.equal(badTs.status, 400);
    assert.equal(badTs.body.detail, "ts must be an ISO-8601 timestamp");
  } finally {
    await s.close();
  }
});

Deno.test("attachments: upload into a session, list, pass the ref into a run of that session", async () => {
  const s = await startServer({ env: { ABSTRACTGATEWAY_MAX_ATTACHMENT_BYTES: "1000" } });
  try {
    const form = new FormData();
    form.append("session_id", "chat-1");
    form.append("file", new Blob(["hello"], { type: "text/plain" }), "note.txt");
    const up = await s.json("/api/gateway/attachments/upload", { method: "POST", body: form });
    assert.equal(up.status, 200, JSON.stringify(up.body));
    assert.equal(up.body.run_id, "session_memory_chat-1");
    const ref = up.body.attachment;
    assert.equal(ref.filename, "note.txt");
    assert.equal(ref.content_type, "text/plain");

    const list = await s.json("/api/gateway/sessions/chat-1/artifacts");
    assert.equal(list.body.total, 1);
    assert.equal(list.body.items[0].artifact_id, ref.artifact_id);

    const big = new FormData();
    big.append("session_id", "chat-1");
    big.append("file", new Blob([new Uint8Array(2000)]), "big.bin");
    const tooBig = await s.json("/api/gateway/attachments/upload", { method: "POST", body: big });
    assert.equal(tooBig.status, 413);
    assert.equal(tooBig.body.detail, "Attachment too large (2000 bytes > 1000 bytes)");
    const noSession = new FormData();
    noSession.append("file", new Blob(["x"]), "x.txt");
    assert.equal(
      (await s.json("/api/gateway/attachments/upload", { method: "POST", body: noSession })).status,
      400,
    );

    const fileRef = { $artifact: ref.artifact_id };
    const outside = await s.json(
      "/api/gateway/runs/start",
      postJson({ bundle_id: "demo", input_data: { f: fileRef } }),
    );
    assert.equal(outside.status, 400);
    const other = await s.json(
      "/api/gateway/runs/start",
      postJson({ bundle_id: "demo", session_id: "chat-2", input_data: { f: fileRef } }),
    );
    assert.equal(other.status, 404);
    const runId = await startRun(s, { bundle_id: "demo", session_id: "chat-1", input_data: { f: fileRef } });
    const content = await s.fetch(
      `/api/gateway/runs/${runId}/artifacts/${ref.artifact_id}/content?access=download`,
    );
    assert.equal(content.status, 200);
    assert.equal(content.headers.get("content-disposition"), 'attachment; filename="note.txt"');
    assert.equal(await content.text(), "hello");
  } finally {
    await s.close();
  }
});
