/** Run control through the command API (scenarios 26, 27, 28) and schedules across restarts (32, 33). */
import assert from "node:assert/strict";
import { join } from "node:path";
import { askUserFlow, subflowFlow, waitEventFlow, waitUntilFlow } from "../helpers/bundles.ts";
import { eventually } from "../helpers/gateway_api.ts";
import { DEMO, postJson, startRun, startServer, type TestServer, waitForRun } from "./harness.ts";

const command = (s: TestServer, body: Record<string, unknown>) =>
  s.json("/api/gateway/commands", postJson(body));

Deno.test("pause and resume a waiting run (scenario 26)", async () => {
  const bundle = { bundleId: "wait", version: "1.0.0", flows: { root: waitUntilFlow("root", 30) } };
  const s = await startServer({ bundles: [DEMO, bundle] });
  try {
    const runId = await startRun(s, { bundle_id: "wait" });
    const waiting = await waitForRun(s, runId, (r) => r.status === "waiting");
    assert.equal(waiting.waiting.reason, "until");
    await command(s, { command_id: "p1", run_id: runId, type: "pause", payload: { reason: "ops" } });
    const paused = await waitForRun(s, runId, (r) => r.paused);
    assert.equal(paused.pause_reason, "ops");
    assert.ok(paused.paused_at);
    assert.equal(paused.status, "waiting");
    await command(s, { command_id: "r1", run_id: runId, type: "resume", payload: {} });
    const resumed = await waitForRun(s, runId, (r) => !r.paused);
    assert.ok(resumed.resumed_at);
  } finally {
    await s.close();
  }
});

Deno.test("cancel a parent waiting on a child cancels the tree (scenario 27)", async () => {
  const bundle = {
    bundleId: "tree",
    version: "1.0.0",
    flows: { root: subflowFlow("root", "child"), child: askUserFlow("child") },
    entrypoints: ["root"],
  };
  const s = await startServer({ bundles: [DEMO, bundle] });
  try {
    const parentId = await startRun(s, { bundle_id: "tree" });
    const parent = await waitForRun(s, parentId, (r) => r.status === "waiting");
    assert.equal(parent.waiting.reason, "subworkflow");
    const all = await s.json("/api/gateway/runs?limit=50");
    const child = all.body.items.find((r: { parent_run_id: string }) => r.parent_run_id === parentId);
    assert.ok(child, "child run listed");
    await waitForRun(s, child.run_id, (r) => r.status === "waiting");
    await command(s, { command_id: "c1", run_id: parentId, type: "cancel" });
    const cancelled = await waitForRun(s, parentId);
    assert.equal(cancelled.status, "cancelled");
    assert.equal(cancelled.error, "Cancelled");
    assert.equal((await waitForRun(s, child.run_id)).status, "cancelled");
  } finally {
    await s.close();
  }
});

Deno.test("emit_event addressed to a session resumes the run waiting for it (scenario 28)", async () => {
  const bundle = {
    bundleId: "evt",
    version: "1.0.0",
    flows: { root: waitEventFlow("root", "evt:session:S1:chat.message") },
  };
  const s = await startServer({ bundles: [DEMO, bundle] });
  try {
    const early = await command(s, {
      command_id: "e0",
      run_id: "S1",
      type: "emit_event",
      payload: { name: "chat.message", payload: { text: "too early" } },
    });
    assert.equal(early.body.accepted, true);
    const runId = await startRun(s, { bundle_id: "evt", session_id: "S1" });
    const waiting = await waitForRun(s, runId, (r) => r.status === "waiting");
    assert.equal(waiting.waiting.wait_key, "evt:session:S1:chat.message");
    const emitted = await command(s, {
      command_id: "e1",
      run_id: "S1",
      type: "emit_event",
      payload: { name: "chat.message", payload: { text: "hi" } },
    });
    assert.equal(emitted.status, 200);
    assert.equal((await waitForRun(s, runId)).status, "completed");
  } finally {
    await s.close();
  }
});

Deno.test("reschedule through a child (scenario 32); a schedule survives a restart (scenario 33)", async () => {
  const s = await startServer();
  try {
    const sched = await s.json(
      "/api/gateway/runs/schedule",
      postJson({ bundle_id: "demo", flow_id: "root", interval: "10s", repeat_count: 2 }),
    );
    const parentId = sched.body.run_id;
    const parent = await waitForRun(
      s,
      parentId,
      (r) => r.current_node === "wait_interval" && r.status === "waiting",
    );
    assert.equal(parent.waiting.reason, "until");
    const runs = await s.json(`/api/gateway/runs?limit=50&session_id=${parentId}`);
    const child = runs.body.items.find((r: { parent_run_id: string }) => r.parent_run_id === parentId);
    await command(s, {
      command_id: "u1",
      run_id: child.run_id,
      type: "update_schedule",
      payload: { interval: "0.1s", apply_immediately: true },
    });
    assert.equal((await waitForRun(s, parentId)).status, "completed");
    const wrapper = parent.workflow_id.replace(/[^A-Za-z0-9._-]+/g, "_");
    const flow = JSON.parse(await Deno.readTextFile(join(s.dataDir, "dynamic_flows", `${wrapper}.json`)));
    const waitNode = flow.nodes.find((n: { id: string }) => n.id === "wait_interval");
    assert.equal(waitNode.data.eventConfig.schedule, "0.1s");

    const startAt = new Date(Date.now() + 800).toISOString();
    const later = await s.json(
      "/api/gateway/runs/schedule",
      postJson({ bundle_id: "demo", flow_id: "root", start_at: startAt }),
    );
    assert.equal(later.status, 200);
    await s.restart(1000);
    assert.equal((await waitForRun(s, later.body.run_id)).status, "completed");
  } finally {
    await s.close();
  }
});

Deno.test("pause on waiting runs: a user prompt is left as is (upstream), an event wait is paused and resumed", async () => {
  const bundle = {
    bundleId: "waits",
    version: "1.0.0",
    flows: { ask: askUserFlow("ask"), evt: waitEventFlow("evt", "evt:session:S9:go") },
    entrypoints: ["ask", "evt"],
  };
  const s = await startServer({ bundles: [DEMO, bundle] });
  const outcome = (commandId: string) =>
    eventually(
      `command ${commandId} done`,
      async () => (await s.json(`/api/gateway/commands/${commandId}`)).body,
      (c) => c.status !== "pending",
    );
  try {
    // A run waiting for an answer: pause is applied and changes nothing; the answer still lands.
    const asking = await startRun(s, { bundle_id: "waits", flow_id: "ask" });
    const prompt = await waitForRun(s, asking, (r) => r.status === "waiting");
    await command(s, { command_id: "pa", run_id: asking, type: "pause", payload: { reason: "ops" } });
    assert.equal((await outcome("pa")).status, "applied");
    const still = (await s.json(`/api/gateway/runs/${asking}`)).body;
    assert.equal(still.paused, false);
    assert.equal(still.paused_at, null);
    assert.deepEqual(still.waiting, prompt.waiting);
    await command(s, {
      command_id: "aa",
      run_id: asking,
      type: "resume",
      payload: { wait_key: prompt.waiting.wait_key, payload: { response: "yes" } },
    });
    assert.equal((await outcome("aa")).status, "applied");
    assert.equal((await waitForRun(s, asking)).status, "completed");

    // A run waiting for an event: paused (no event gets in), then resumed (the event gets in).
    const listening = await startRun(s, { bundle_id: "waits", flow_id: "evt", session_id: "S9" });
    await waitForRun(s, listening, (r) => r.status === "waiting");
    await command(s, { command_id: "pe", run_id: listening, type: "pause", payload: { reason: "ops" } });
    assert.equal((await outcome("pe")).status, "applied");
    const paused = (await s.json(`/api/gateway/runs/${listening}`)).body;
    assert.equal(paused.paused, true);
    assert.equal(paused.pause_reason, "ops");
    assert.equal(paused.status, "waiting");
    const emit = (id: string) =>
      command(s, { command_id: id, run_id: "S9", type: "emit_event", payload: { name: "go", payload: {} } });
    await emit("e1");
    assert.match((await outcome("e1")).error ?? "", /Run is paused/);
    assert.equal((await s.json(`/api/gateway/runs/${listening}`)).body.status, "waiting");
    await command(s, { command_id: "re", run_id: listening, type: "resume", payload: {} });
    assert.equal((await outcome("re")).status, "applied");
    const resumed = (await s.json(`/api/gateway/runs/${listening}`)).body;
    assert.equal(resumed.paused, false);
    assert.ok(resumed.resumed_at);
    await emit("e2");
    assert.equal((await outcome("e2")).status, "applied");
    assert.equal((await waitForRun(s, listening)).status, "completed");
  } finally {
    await s.close();
  }
});
