/** Command routes over real HTTP: append, idempotency, submit-time validation, outcome read-back. */
import assert from "node:assert/strict";
import { askUserFlow } from "../helpers/bundles.ts";
import { DEMO, postJson, startRun, startServer, type TestServer, waitForRun } from "./harness.ts";

const ASK = { bundleId: "ask", version: "1.0.0", flows: { root: askUserFlow("root") } };
const command = (s: TestServer, body: Record<string, unknown>) =>
  s.json("/api/gateway/commands", postJson(body));

async function commandOutcome(s: TestServer, id: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { body } = await s.json(`/api/gateway/commands/${id}`);
    if (body.status !== "pending") return body;
    if (Date.now() > deadline) throw new Error(`command ${id} still pending`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

for (const backend of ["file", "sqlite"]) {
  Deno.test(`${backend} store: ask-user resume, idempotent retries, outcome read-back (23, 24)`, async () => {
    const s = await startServer({ bundles: [DEMO, ASK], env: { ABSTRACTGATEWAY_STORE_BACKEND: backend } });
    try {
      const runId = await startRun(s, { bundle_id: "ask" });
      const waiting = await waitForRun(s, runId, (r) => r.status === "waiting");
      assert.equal(waiting.waiting.reason, "user");
      assert.ok(waiting.waiting.wait_key);

      const resume = {
        command_id: "c1",
        run_id: runId,
        type: "resume",
        payload: { wait_key: waiting.waiting.wait_key, payload: { response: "hi" } },
      };
      const first = await command(s, resume);
      assert.equal(first.status, 200);
      assert.equal(first.body.accepted, true);
      assert.equal(first.body.duplicate, false);
      const seq = first.body.seq;
      assert.ok(seq >= 1);
      assert.equal((await waitForRun(s, runId)).status, "completed");

      const outcome = await commandOutcome(s, "c1");
      assert.equal(outcome.status, "applied");
      assert.equal(outcome.error, null);
      assert.equal(outcome.type, "resume");
      assert.equal(outcome.seq, seq);

      // Retries are answered with the original seq, whatever the payload (or the run) became.
      const dup = await command(s, { ...resume, payload: { anything: true } });
      assert.deepEqual(dup.body, { accepted: false, duplicate: true, seq });
      const dupBadPayload = await command(s, { ...resume, payload: "not an object" });
      assert.equal(dupBadPayload.status, 422); // a wrong field type is refused first, as upstream
      const next = await command(s, { command_id: "c2", run_id: runId, type: "pause" });
      assert.ok(next.body.seq > seq);

      // A command the runner cannot apply is visible as failed.
      const other = await startRun(s, { bundle_id: "ask" });
      await waitForRun(s, other, (r) => r.status === "waiting");
      await command(s, {
        command_id: "c3",
        run_id: other,
        type: "resume",
        payload: { wait_key: "wrong-key", payload: { response: "x" } },
      });
      const failed = await commandOutcome(s, "c3");
      assert.equal(failed.status, "failed");
      assert.equal(typeof failed.error, "string");

      const unknown = await s.json("/api/gateway/commands/nope");
      assert.equal(unknown.status, 404);
      assert.deepEqual(unknown.body, { detail: "Command 'nope' not found" });
    } finally {
      await s.close();
    }
  });
}

Deno.test("command validation at submit time (scenario 25, stricter than upstream)", async () => {
  const s = await startServer();
  try {
    const runId = await startRun(s, { bundle_id: "demo" });
    const explode = await command(s, { command_id: "x", run_id: runId, type: "explode" });
    assert.equal(explode.status, 400);
    assert.deepEqual(explode.body, {
      detail: "type must be one of pause|resume|cancel|emit_event|update_schedule|compact_memory",
    });
    assert.equal((await command(s, { run_id: runId, type: "pause" })).status, 422);
    const emptyRun = await command(s, { command_id: "x", run_id: "", type: "pause" });
    assert.equal(emptyRun.status, 400);
    assert.match(emptyRun.body.detail, /^Failed to append command/);
    const emptyId = await command(s, { command_id: " ", run_id: runId, type: "pause" });
    assert.equal(emptyId.status, 400);
    assert.match(emptyId.body.detail, /command_id/);

    const cases: [Record<string, unknown>, string][] = [
      [{ type: "pause", payload: { reason: 5 } }, "payload.reason must be a string"],
      [{ type: "resume", payload: { payload: "hi" } }, "payload.payload must be a JSON object"],
      [{ type: "emit_event", payload: {} }, "payload.name must be a non-empty string"],
      [{ type: "emit_event", payload: { name: "e", scope: "planet" } }, "payload.scope must be one of"],
      [
        { type: "update_schedule", payload: { interval: "soon" } },
        "payload.interval must be a positive duration",
      ],
      [{ type: "update_schedule", payload: {} }, "payload.interval must be a positive duration"],
      [{ type: "compact_memory", payload: { compression_mode: "max" } }, "payload.compression_mode"],
    ];
    for (const [i, [extra, message]] of cases.entries()) {
      const res = await command(s, { command_id: `bad-${i}`, run_id: runId, ...extra });
      assert.equal(res.status, 400, JSON.stringify(extra));
      assert.ok(res.body.detail.startsWith(message), `${res.body.detail} should start with ${message}`);
    }
    // A rejected command does not consume its id.
    const arrayPayload = await command(s, {
      command_id: "bad-array",
      run_id: runId,
      type: "pause",
      payload: [1],
    });
    assert.equal(arrayPayload.status, 422);
    assert.deepEqual(arrayPayload.body.detail[0].loc, ["body", "payload"]);
    const later = await command(s, { command_id: "bad-0", run_id: runId, type: "pause" });
    assert.equal(later.body.accepted, true);

    const missingRun = await command(s, { command_id: "m1", run_id: "missing", type: "cancel" });
    assert.equal(missingRun.status, 404);
    assert.deepEqual(missingRun.body, { detail: "Run 'missing' not found" });
    // emit_event addresses a session: no run needs to exist under that id.
    const event = await command(s, {
      command_id: "e1",
      run_id: "some-session",
      type: "emit_event",
      payload: { name: "chat.message", payload: { text: "hi" } },
    });
    assert.equal(event.status, 200);
    assert.equal(event.body.accepted, true);
    const schedule = await command(s, {
      command_id: "u1",
      run_id: runId,
      type: "update_schedule",
      payload: { interval: "0.5s", apply_immediately: true },
    });
    assert.equal(schedule.status, 200);
  } finally {
    await s.close();
  }
});
