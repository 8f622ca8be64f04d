/** POST /runs/schedule over real HTTP (scenarios 29, 30, 31) and the dynamic workflow flow route. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { postJson, startServer, waitForRun } from "./harness.ts";

Deno.test("schedule N times: wrapper parent, children in its session, dynamic flow (scenarios 29, 30)", async () => {
  const s = await startServer();
  try {
    const sched = await s.json(
      "/api/gateway/runs/schedule",
      postJson({
        bundle_id: "demo",
        flow_id: "root",
        input_data: { prompt: "x" },
        start_at: "now",
        interval: "0.1s",
        repeat_count: 2,
      }),
    );
    assert.equal(sched.status, 200, JSON.stringify(sched.body));
    const parentId = sched.body.run_id;
    const parent = await s.json(`/api/gateway/runs/${parentId}`);
    assert.match(parent.body.workflow_id, /^scheduled:/);
    assert.equal(parent.body.is_scheduled, true);
    assert.equal(parent.body.schedule.kind, "scheduled_run");
    assert.equal(parent.body.schedule.target_workflow_id, "demo@0.0.1:root");
    assert.equal((await waitForRun(s, parentId)).status, "completed");

    const list = await s.json(`/api/gateway/runs?limit=200&session_id=${parentId}`);
    const children = list.body.items.filter((r: { parent_run_id: string }) => r.parent_run_id === parentId);
    assert.equal(children.length, 2);
    for (const child of children) assert.equal(child.session_id, parentId);

    const dynamic = [];
    for await (const e of Deno.readDir(join(s.dataDir, "dynamic_flows"))) dynamic.push(e.name);
    assert.equal(dynamic.filter((n) => n.endsWith(".json")).length, 1);
    const wf = parent.body.workflow_id;
    const flow = await s.json(`/api/gateway/workflows/${encodeURIComponent(wf)}/flow`);
    assert.equal(flow.status, 200);
    assert.equal(flow.body.source, "dynamic");
    assert.equal(flow.body.flow.id, wf);

    const input = await s.json(`/api/gateway/runs/${parentId}/input_data`);
    assert.equal(input.body.workflow_id, "demo@0.0.1:root");
    assert.equal(input.body.input_data.prompt, "x");

    const isolated = await s.json(
      "/api/gateway/runs/schedule",
      postJson({
        bundle_id: "demo",
        flow_id: "root",
        interval: "0.1s",
        repeat_count: 2,
        share_context: false,
      }),
    );
    const isoId = isolated.body.run_id;
    await waitForRun(s, isoId);
    const all = await s.json("/api/gateway/runs?limit=200");
    const isoChildren = all.body.items.filter((r: { parent_run_id: string }) => r.parent_run_id === isoId);
    assert.equal(isoChildren.length, 2);
    assert.equal(new Set(isoChildren.map((r: { session_id: string }) => r.session_id)).size, 2);
    assert.ok(isoChildren.every((r: { session_id: string }) => r.session_id !== isoId));
  } finally {
    await s.close();
  }
});

Deno.test("schedule validation (scenario 31)", async () => {
  const s = await startServer();
  try {
    const base = { bundle_id: "demo", flow_id: "root" };
    const cases: [Record<string, unknown>, number, RegExp][] = [
      [{ flow_id: "root" }, 400, /bundle_id and flow_id are required/],
      [{ ...base, repeat_count: 0 }, 400, /repeat_count must be >= 1/],
      [{ ...base, repeat_count: 3 }, 400, /repeat_count > 1 requires interval/],
      [
        { ...base, interval: "1h", repeat_count: 2, repeat_until: "2030-01-01T00:00:00Z" },
        400,
        /repeat_until/,
      ],
      [{ ...base, repeat_until: "2030-01-01T00:00:00Z" }, 400, /repeat_until requires interval/],
      [{ ...base, interval: "soon" }, 400, /interval/],
      [{ ...base, start_at: "yesterday" }, 400, /start_at/],
      [{ bundle_id: "demo", flow_id: "zzz" }, 404, /Target workflow 'demo@0\.0\.1:zzz' not found/],
      [{ bundle_id: "nope", flow_id: "root" }, 404, /Bundle 'nope' has no versions loaded/],
    ];
    for (const [body, status, detail] of cases) {
      const res = await s.json("/api/gateway/runs/schedule", postJson(body));
      assert.equal(res.status, status, JSON.stringify(body));
      assert.match(res.body.detail, detail);
    }
    const wrongType = await s.json("/api/gateway/runs/schedule", postJson({ ...base, repeat_count: "2" }));
    assert.equal(wrongType.status, 422);
  } finally {
    await s.close();
  }
});

Deno.test("a cron schedule shows its expression and timezone in the run summary, and cancel stops it", async () => {
  const s = await startServer();
  try {
    const sched = await s.json(
      "/api/gateway/runs/schedule",
      postJson({ bundle_id: "demo", flow_id: "root", cron: "0 9 * * 1-5", timezone: "Europe/Paris" }),
    );
    assert.equal(sched.status, 200, JSON.stringify(sched.body));
    const parentId = sched.body.run_id;
    const parent = await waitForRun(s, parentId, (r) => r.status === "waiting");
    assert.equal(parent.schedule.cron, "0 9 * * 1-5");
    assert.equal(parent.schedule.timezone, "Europe/Paris");
    assert.equal(parent.schedule.interval, null);
    assert.equal(parent.waiting.reason, "until");

    const bad = await s.json(
      "/api/gateway/runs/schedule",
      postJson({ bundle_id: "demo", flow_id: "root", cron: "every tuesday" }),
    );
    assert.equal(bad.status, 400);
    assert.match(bad.body.detail, /cron/);

    const cancel = await s.json(
      "/api/gateway/commands",
      postJson({ command_id: crypto.randomUUID(), run_id: parentId, type: "cancel", payload: {} }),
    );
    assert.equal(cancel.status, 200);
    assert.equal((await waitForRun(s, parentId)).status, "cancelled");
  } finally {
    await s.close();
  }
});
