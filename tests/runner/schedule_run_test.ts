/** Scheduled runs end to end: wrapper flow on the real VisualFlow engine, driven by the real runner. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createScheduledRun, ScheduleError } from "../../src/runner/schedule.ts";
import type { RunState } from "../../src/runtime/types.ts";
import { makeBundle, simpleFlow } from "../bundles/fixtures.ts";
import { type Harness, openHarness } from "./harness.ts";

async function openDemo(): Promise<Harness> {
  const h = await openHarness("sqlite");
  const bundle = makeBundle({
    id: "demo",
    version: "0.0.1",
    flows: { root: simpleFlow("root", { prompt: "string" }) },
  });
  await Deno.writeFile(join(h.config.flowsDir, "demo@0.0.1.flow"), bundle);
  await h.bundles.reload();
  return h;
}

async function withDemo(fn: (h: Harness) => Promise<void>): Promise<void> {
  const h = await openDemo();
  try {
    await fn(h);
  } finally {
    await h.dispose();
  }
}

async function children(h: Harness, parentId: string): Promise<RunState[]> {
  return await h.stores.runs.listChildren(parentId);
}

Deno.test("schedule N times (scenario 29): children share the parent's session, parent completes", () =>
  withDemo(async (h) => {
    const { run_id } = await createScheduledRun(h, {
      bundle_id: "demo",
      flow_id: "root",
      input_data: { prompt: "x" },
      start_at: "now",
      interval: "0.1s",
      repeat_count: 2,
    });
    h.runner.kick();
    const parent = await h.waitFor(run_id, (r) => r.status === "completed", 10_000);
    assert.match(parent.workflow_id, /^scheduled:[0-9a-f-]{36}$/);
    assert.equal(parent.vars.prompt, "x");
    const kids = await children(h, run_id);
    assert.equal(kids.length, 2);
    for (const kid of kids) {
      assert.equal(kid.session_id, run_id);
      assert.equal(kid.status, "completed");
      assert.equal(kid.workflow_id, "demo@0.0.1:root");
    }
    const files = [...Deno.readDirSync(join(h.dir, "dynamic_flows"))];
    assert.equal(files.length, 1);
  }));

Deno.test("schedule isolation (scenario 30): share_context=false gives distinct child sessions", () =>
  withDemo(async (h) => {
    const { run_id } = await createScheduledRun(h, {
      bundle_id: "demo",
      flow_id: "root",
      input_data: {},
      interval: "0.1s",
      repeat_count: 2,
      share_context: false,
    });
    h.runner.kick();
    await h.waitFor(run_id, (r) => r.status === "completed", 10_000);
    const parent = (await h.stores.runs.load(run_id))!;
    const sessions = (await children(h, run_id)).map((k) => k.session_id).sort();
    assert.deepEqual(sessions, [`${parent.workflow_id}:0`, `${parent.workflow_id}:1`]);
    assert.ok(!sessions.includes(run_id));
  }));

Deno.test("reschedule (scenario 32): update_schedule sent to a child shortens the interval", () =>
  withDemo(async (h) => {
    const { run_id } = await createScheduledRun(h, {
      bundle_id: "demo",
      flow_id: "root",
      interval: "10s",
      repeat_count: 2,
    });
    h.runner.kick();
    const waiting = await h.waitFor(
      run_id,
      (r) => r.current_node === "wait_interval" && r.waiting?.reason === "until",
    );
    const [child] = await children(h, run_id);
    const cmd = await h.command("update_schedule", child.run_id, {
      interval: "0.1s",
      apply_immediately: true,
    });
    assert.equal((await h.outcome(cmd)).status, "applied");
    await h.waitFor(run_id, (r) => r.status === "completed", 5_000);
    const flow = h.bundles.getWorkflow(waiting.workflow_id)!;
    const node = flow.nodes.find((n) => n.id === "wait_interval")!;
    assert.equal((node.data.eventConfig as { schedule: string }).schedule, "0.1s");
    const bad = await h.outcome(await h.command("update_schedule", run_id, { interval: "soon" }));
    assert.match(bad.error!, /^update_schedule interval must be a positive duration/);
  }));

Deno.test("forever schedule stops when its parent is cancelled", () =>
  withDemo(async (h) => {
    const { run_id } = await createScheduledRun(h, { bundle_id: "demo", flow_id: "root", interval: "0.05s" });
    h.runner.kick();
    await h.waitFor(run_id, () => true);
    const deadline = Date.now() + 5_000;
    while ((await children(h, run_id)).length < 3) {
      assert.ok(Date.now() < deadline, "forever schedule did not repeat");
      await new Promise((r) => setTimeout(r, 20));
    }
    await h.outcome(await h.command("cancel", run_id, {}));
    const count = (await children(h, run_id)).length;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await h.stores.runs.load(run_id))!.status, "cancelled");
    assert.equal((await children(h, run_id)).length, count);
  }));

Deno.test("schedule target errors: unknown bundle 404, unknown flow 404, deprecated 409", () =>
  withDemo(async (h) => {
    const status = async (body: Record<string, unknown>) => {
      try {
        await createScheduledRun(h, body);
        return 200;
      } catch (err) {
        assert.ok(err instanceof ScheduleError, String(err));
        return `${err.status} ${err.message}`;
      }
    };
    assert.equal(await status({ flow_id: "root" }), "400 bundle_id and flow_id are required");
    assert.equal(
      await status({ bundle_id: "nope", flow_id: "root" }),
      "404 Bundle 'nope' has no versions loaded",
    );
    assert.equal(
      await status({ bundle_id: "demo", flow_id: "zzz" }),
      "404 Target workflow 'demo@0.0.1:zzz' not found",
    );
    assert.equal(
      await status({ bundle_id: "demo@0.0.1", bundle_version: "0.0.2", flow_id: "root" }),
      "400 bundle_version '0.0.2' conflicts with bundle_id 'demo@0.0.1'",
    );
    await h.bundles.deprecations.deprecate("demo", "root", "retired");
    assert.equal(
      await status({ bundle_id: "demo", flow_id: "root" }),
      "409 Workflow 'demo:root' is deprecated: retired",
    );
  }));

Deno.test("cron schedule (6-field, every second) fires repeat_count times", () =>
  withDemo(async (h) => {
    const { run_id } = await createScheduledRun(h, {
      bundle_id: "demo",
      flow_id: "root",
      cron: "* * * * * *",
      timezone: "UTC",
      repeat_count: 2,
    });
    h.runner.kick();
    // The wrapper waits a placeholder day; the runner then moves it to the next cron fire (a whole
    // second). Wait for that re-timed save: the placeholder may be seen first.
    const waiting = await h.waitFor(run_id, (r) =>
      r.current_node === "wait_interval" && r.waiting?.reason === "until" &&
      Date.parse(r.waiting.until!) - Date.now() <= 1_000);
    assert.equal(Date.parse(waiting.waiting!.until!) % 1000, 0);
    const done = await h.waitFor(run_id, (r) =>
      r.status === "completed", 5_000);
    assert.equal((await children(h, run_id)).length, 2);
    assert.equal((done.vars._meta as { schedule: { cron: string } }).schedule.cron, "* * * * * *");
  }));

Deno.test("a schedule survives a restart before its start time (scenario 33)", async () => {
  const first = await openDemo();
  let again: Harness | null = null;
  let firstOpen = true;
  try {
    const { run_id } = await createScheduledRun(first, {
      bundle_id: "demo",
      flow_id: "root",
      start_at: new Date(Date.now() + 800).toISOString(),
    });
    first.runner.kick();
    await first.waitFor(run_id, (r) => r.current_node === "wait_start" && r.waiting?.reason === "until");
    await first.close();
    firstOpen = false;
    await new Promise((r) => setTimeout(r, 1_000));
    again = await openHarness("sqlite", { dir: first.dir });
    await again.waitFor(run_id, (r) => r.status === "completed", 5_000);
    assert.equal((await children(again, run_id)).length, 1);
  } finally {
    if (firstOpen) await first.dispose();
    else if (again) await again.dispose();
    else await Deno.remove(first.dir, { recursive: true });
  }
});

Deno.test("update_schedule on a cron schedule takes a new cron expression", () =>
  withDemo(async (h) => {
    const { run_id } = await createScheduledRun(h, {
      bundle_id: "demo",
      flow_id: "root",
      cron: "* * * * * *",
      repeat_count: 3,
    });
    h.runner.kick();
    await h.waitFor(run_id, (r) => r.current_node === "wait_interval" && r.waiting?.reason === "until");
    const wrongKind = await h.outcome(await h.command("update_schedule", run_id, { interval: "1s" }));
    assert.match(wrongKind.error!, /belongs to a cron schedule; send payload.cron/);
    const badCron = await h.outcome(await h.command("update_schedule", run_id, { cron: "nope" }));
    assert.match(badCron.error!, /^update_schedule cron "nope" is not valid/);
    const ok = await h.outcome(
      await h.command("update_schedule", run_id, { cron: "0 0 1 1 *", timezone: "UTC" }),
    );
    assert.equal(ok.status, "applied");
    const moved = (await h.stores.runs.load(run_id))!;
    const nextYear = new Date().getUTCFullYear() + 1;
    assert.equal(moved.waiting!.until, `${nextYear}-01-01T00:00:00.000000+00:00`);
    assert.equal((moved.vars._meta as { schedule: { cron: string } }).schedule.cron, "0 0 1 1 *");
    await new Promise((r) => setTimeout(r, 1_200)); // the old every-second cron would have fired
    assert.equal((await h.stores.runs.load(run_id))!.status, "waiting");
    assert.equal((await children(h, run_id)).length, 1);
    await h.outcome(await h.command("cancel", run_id, {}));
  }));
