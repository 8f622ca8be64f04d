/**
 * emit_event-driven resumes through the HTTP API with our `events@1.0.0` bundle: the run's On Event
 * listener waits on `evt:session:<sid>:signal.ping`, each emit_event command wakes it (it answers with
 * the payload text and listens again), and the root finishes when its question is answered.
 */
import assert from "node:assert/strict";
import { BUNDLES_DIR } from "../../bundles/build.ts";
import { postJson, startRun, startServer, type TestServer, waitForRun } from "./harness.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const hit = await probe();
    if (hit !== undefined) return hit;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

/** The event-listener child run of `rootId` (from the history bundle's sub-run ledgers). */
async function listenerOf(s: TestServer, rootId: string): Promise<Json> {
  return await until("the listener child run", async () => {
    const { body } = await s.json(`/api/gateway/runs/${rootId}/history_bundle`);
    const childId = Object.keys(body.ledgers).find((id) => id !== rootId);
    if (!childId) return undefined;
    const child = (await s.json(`/api/gateway/runs/${childId}`)).body;
    return child.status === "waiting" ? child : undefined;
  });
}

async function answers(s: TestServer, runId: string): Promise<string[]> {
  const { body } = await s.json(`/api/gateway/runs/${runId}/ledger?limit=2000`);
  return body.items
    .filter((r: Json) => r.effect?.type === "answer_user" && r.status === "completed")
    .map((r: Json) => r.result.message);
}

Deno.test("emit_event commands resume a run waiting on an event (events@1.0.0 over HTTP)", async () => {
  const s = await startServer({ env: { ABSTRACTGATEWAY_FLOWS_DIR: BUNDLES_DIR } });
  try {
    const rootId = await startRun(s, { bundle_id: "events", session_id: "sess-ev" });
    const listener = await listenerOf(s, rootId);
    assert.equal(listener.waiting.reason, "event");
    assert.equal(listener.waiting.wait_key, "evt:session:sess-ev:signal.ping");

    const emit = async (commandId: string, text: string) => {
      const res = await s.json(
        "/api/gateway/commands",
        postJson({
          command_id: commandId,
          run_id: "sess-ev", // the session id, as upstream clients send it
          type: "emit_event",
          payload: { name: "signal.ping", payload: { text } },
        }),
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.accepted, true);
    };

    await emit("ping-1", "hello");
    assert.deepEqual(
      await until("the first answer", async () => {
        const got = await answers(s, listener.run_id);
        return got.length === 1 ? got : undefined;
      }),
      ["got: hello"],
    );
    // The listener listens again on the same key; a second event wakes it once more.
    await waitForRun(s, listener.run_id, (r) => r.status === "waiting");
    await emit("ping-2", "again");
    await until(
      "the second answer",
      async () => (await answers(s, listener.run_id)).length === 2 || undefined,
    );
    assert.deepEqual(await answers(s, listener.run_id), ["got: hello", "got: again"]);

    // The resume records carry upstream's external envelope.
    const { body: ledger } = await s.json(`/api/gateway/runs/${listener.run_id}/ledger?limit=2000`);
    const resume = ledger.items.find((r: Json) => r.effect?.type === "resume");
    assert.equal(resume.effect.payload.wait_key, "evt:session:sess-ev:signal.ping");
    assert.deepEqual(resume.effect.payload.payload.payload, { text: "hello" });
    assert.equal(resume.effect.payload.payload.emitter.source, "external");

    // Answering the root's question finishes the run.
    const root = await waitForRun(s, rootId, (r) => r.status === "waiting");
    const resumed = await s.json(
      "/api/gateway/commands",
      postJson({
        command_id: "stop",
        run_id: rootId,
        type: "resume",
        payload: { wait_key: root.waiting.wait_key, payload: { response: "stop" } },
      }),
    );
    assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
    const done = await waitForRun(s, rootId);
    assert.equal(done.status, "completed");
    const { body: rootLedger } = await s.json(`/api/gateway/runs/${rootId}/ledger?limit=2000`);
    const completion = rootLedger.items.find((r: Json) => r.result?.completed === true);
    assert.equal(completion.result.output.stopped_by, "stop");
  } finally {
    await s.close();
  }
});
