import assert from "node:assert/strict";
import { parseTiming, ScheduleError } from "../../src/runner/schedule.ts";
import { buildWrapperFlow } from "../../src/runner/schedule_flow.ts";

function rejects(body: Record<string, unknown>, message: string | RegExp) {
  assert.throws(
    () => parseTiming(body),
    (err: unknown) => {
      assert.ok(err instanceof ScheduleError);
      assert.equal(err.status, 400);
      if (typeof message === "string") assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
  );
}

Deno.test("parseTiming: the contract's validation messages (scenario 31)", () => {
  rejects({ repeat_count: 0 }, "repeat_count must be >= 1");
  rejects({ repeat_count: -2, interval: "1s" }, "repeat_count must be >= 1");
  rejects({ repeat_count: 3 }, "repeat_count > 1 requires interval");
  rejects({ repeat_count: 1.5, interval: "1s" }, "repeat_count must be an integer");
  rejects(
    { repeat_until: "2030-01-01T00:00:00Z", repeat_count: 2, interval: "1h" },
    /cannot be combined with repeat_count/,
  );
  rejects({ repeat_until: "2030-01-01T00:00:00Z" }, "repeat_until requires interval");
  rejects({ interval: "soon" }, /^interval must be a positive duration/);
  rejects({ start_at: "tomorrow" }, 'start_at must be an ISO-8601 timestamp or "now"');
  rejects({ repeat_until: "2030-01-01T00:00:00Z", interval: "0.5s" }, /whole number/);
  rejects(
    { start_at: "2030-01-02T00:00:00Z", repeat_until: "2030-01-01T00:00:00Z", interval: "1h" },
    /before start_at/,
  );
  rejects(
    { start_at: "2030-01-01T00:00:00Z", repeat_until: "2030-12-31T00:00:00Z", interval: "1m" },
    /at most 10000/,
  );
});

Deno.test("parseTiming: derivations (now, count from until, count 1 drops the interval, forever)", () => {
  const now = parseTiming({ start_at: "now" });
  assert.equal(now.startAt, null);
  assert.equal(now.interval, null);
  const derived = parseTiming({
    start_at: "2030-01-01T00:00:00Z",
    repeat_until: "2030-01-01T01:00:00Z",
    interval: "15m",
  });
  assert.equal(derived.startAt, "2030-01-01T00:00:00.000000+00:00");
  assert.equal(derived.repeatCount, 5);
  assert.equal(derived.repeatUntil, "2030-01-01T01:00:00.000000+00:00");
  const once = parseTiming({ interval: "1h", repeat_count: 1 });
  assert.equal(once.interval, null);
  assert.equal(once.repeatCount, 1);
  const forever = parseTiming({ interval: "0.1s" });
  assert.equal(forever.interval, "0.1s");
  assert.equal(forever.repeatCount, null);
});

Deno.test("parseTiming: cron is validated and excludes interval and repeat_until", () => {
  const t = parseTiming({ cron: "*/5 * * * *", timezone: "Europe/Paris", repeat_count: 3 });
  assert.equal(t.cron, "*/5 * * * *");
  assert.equal(t.repeatCount, 3);
  rejects({ cron: "every day" }, /^cron "every day" is not valid/);
  rejects({ cron: "* * * * *", timezone: "Mars/Base" }, /not a valid IANA timezone/);
  rejects({ cron: "* * * * *", interval: "1h" }, "cron cannot be combined with interval");
  rejects(
    { cron: "* * * * *", repeat_until: "2030-01-01T00:00:00Z" },
    /repeat_until cannot be combined with cron/,
  );
  rejects({ timezone: "UTC" }, "timezone is only used with cron");
});

const ids = (flow: ReturnType<typeof buildWrapperFlow>) => flow.nodes.map((n) => n.id).sort();
const execEdges = (flow: ReturnType<typeof buildWrapperFlow>) =>
  flow.edges.filter((e) => e.targetHandle === "exec-in").map((e) =>
    `${e.source}.${e.sourceHandle}>${e.target}`
  ).sort();

Deno.test("buildWrapperFlow: one-shot, N times and forever shapes", () => {
  const base = {
    flowId: "scheduled:x",
    targetWorkflowId: "demo@1:root",
    startSchedule: "0s",
    sessionPrefix: null,
  };
  const once = buildWrapperFlow({ ...base, intervalSchedule: null, repeatCount: 1 });
  assert.deepEqual(ids(once), ["run_first", "start", "wait_start"]);
  assert.equal(once.id, "scheduled:x");
  assert.equal(once.entryNode, "start");

  const n = buildWrapperFlow({ ...base, intervalSchedule: "10s", repeatCount: 3 });
  assert.deepEqual(execEdges(n), [
    "repeat.loop>wait_interval",
    "run_first.exec-out>repeat",
    "start.exec-out>wait_start",
    "wait_interval.exec-out>run_next",
    "wait_start.exec-out>run_first",
  ]);
  const repeat = n.nodes.find((x) => x.id === "repeat")!;
  assert.deepEqual(repeat.data.pinDefaults, { start: 1, end: 3, step: 1 });
  const wait = n.nodes.find((x) => x.id === "wait_interval")!;
  assert.deepEqual(wait.data.eventConfig, { schedule: "10s", recurrent: false });
  assert.equal(n.nodes.find((x) => x.id === "run_next")!.data.subflowId, "demo@1:root");

  const forever = buildWrapperFlow({ ...base, intervalSchedule: "1h", repeatCount: null });
  assert.ok(!ids(forever).includes("repeat"));
  assert.ok(execEdges(forever).includes("run_first.exec-out>wait_interval"));
  assert.deepEqual(forever.nodes.find((x) => x.id === "wait_interval")!.data.eventConfig, {
    schedule: "1h",
    recurrent: true,
  });
});

Deno.test("buildWrapperFlow: share_context=false gives each child its own session id", () => {
  const flow = buildWrapperFlow({
    flowId: "scheduled:y",
    targetWorkflowId: "demo@1:root",
    startSchedule: "0s",
    intervalSchedule: "1s",
    repeatCount: 2,
    sessionPrefix: "scheduled:y",
  });
  assert.deepEqual(flow.nodes.find((x) => x.id === "run_first")!.data.pinDefaults, {
    session_id: "scheduled:y:0",
  });
  const wired = flow.edges.filter((e) => e.target === "next_session" || e.source === "next_session")
    .map((e) => `${e.source}.${e.sourceHandle}>${e.target}.${e.targetHandle}`).sort();
  assert.deepEqual(wired, ["next_session.result>run_next.session_id", "repeat.i>next_session.suffix"]);
});
