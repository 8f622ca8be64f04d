/** The SSE ledger stream over real HTTP: upstream framing, liveness, resume without loss or duplicates. */
import assert from "node:assert/strict";
import { askUserFlow } from "../helpers/bundles.ts";
import type { StepRecord } from "../../src/runtime/types.ts";
import { DEMO, postJson, startRun, startServer, type TestServer, waitForRun } from "./harness.ts";
import { readFrames, type SseFrame } from "./sse_client.ts";
import { syntheticRecord } from "../helpers/step_records.ts";

const ASK = { bundleId: "ask", version: "1.0.0", flows: { root: askUserFlow("root") } };
const stream = (s: TestServer, runId: string, query = "", headers: Record<string, string> = {}) =>
  s.fetch(`/api/gateway/runs/${runId}/ledger/stream${query}`, { headers });
const steps = (frames: SseFrame[]) => frames.filter((f) => f.event === "step");

const record = (runId: string, i: number) => syntheticRecord(runId, i, "ask", { i, text: "é✓" });

Deno.test("terminal run: replay with upstream framing, then done and close (scenario 20)", async () => {
  const s = await startServer();
  try {
    const runId = await startRun(s, { bundle_id: "demo" });
    await waitForRun(s, runId);
    const ledger = (await s.json(`/api/gateway/runs/${runId}/ledger?limit=2000`)).body.items;
    const n = ledger.length;

    const res = await stream(s, runId, "?after=0&heartbeat_s=0.2");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    assert.equal(res.headers.get("cache-control"), "no-cache");
    assert.equal(res.headers.get("x-accel-buffering"), "no");
    assert.ok(res.headers.get("x-request-id"));
    const { frames, closedByServer } = await readFrames(res);
    assert.ok(closedByServer);
    assert.equal(frames[0].retry, "2000");
    const stepFrames = steps(frames);
    assert.equal(stepFrames.length, n);
    stepFrames.forEach((f, i) => {
      assert.equal(f.id, String(i + 1));
      const data = JSON.parse(f.data!);
      assert.equal(data.cursor, i + 1);
      assert.deepEqual(data.record, ledger[i]);
    });
    // Python json.dumps spacing, exactly as upstream.
    assert.ok(stepFrames[0].data!.startsWith(`{"cursor": 1, "record": {"run_id": "${runId}", `));
    const done = frames.at(-1)!;
    assert.equal(done.event, "done");
    assert.equal(done.id, undefined);
    assert.equal(done.raw, `event: done\ndata: {"run_id": "${runId}", "cursor": ${n}, "status": "terminal"}`);

    const caughtUp = await readFrames(await stream(s, runId, `?after=${n}`));
    assert.deepEqual(caughtUp.frames.map((f) => f.event ?? (f.retry ? "retry" : "?")), ["retry", "done"]);
    // Last-Event-ID wins over ?after=.
    const resumed = await readFrames(await stream(s, runId, "?after=0", { "Last-Event-ID": String(n - 1) }));
    assert.deepEqual(steps(resumed.frames).map((f) => f.id), [String(n)]);
  } finally {
    await s.close();
  }
});

Deno.test("live run: keep-alives, push-based new records, done after cancel (scenario 21); 404 and 422", async () => {
  const s = await startServer({ bundles: [DEMO, ASK] });
  try {
    const runId = await startRun(s, { bundle_id: "ask" });
    await waitForRun(s, runId, (r) => r.status === "waiting");
    const before = (await s.json(`/api/gateway/runs/${runId}/ledger`)).body.items.length;

    const res = await stream(s, runId, "?heartbeat_s=0.2");
    let keepAlives = 0;
    let cancelSent = 0;
    const { frames, closedByServer } = await readFrames(res, (f) => {
      if (f.comment === "keep-alive" && ++keepAlives === 2) {
        cancelSent = Date.now();
        void s.json("/api/gateway/commands", postJson({ command_id: "k1", run_id: runId, type: "cancel" }));
      }
      return false;
    });
    const doneAt = Date.now();
    assert.ok(closedByServer);
    assert.ok(keepAlives >= 2);
    assert.ok(doneAt - cancelSent < 1500, `done ${doneAt - cancelSent} ms after cancel`);
    const records = steps(frames).map((f) => JSON.parse(f.data!).record);
    assert.ok(records.length > before);
    assert.ok(
      records.some((r) =>
        r.effect?.type === "emit_event" && r.effect.payload.name === "abstract.status" &&
        r.effect.payload.payload.text === "cancelled"
      ),
    );
    const done = JSON.parse(frames.at(-1)!.data!);
    assert.deepEqual(done, { run_id: runId, cursor: records.length, status: "terminal" });

    for (const q of ["?heartbeat_s=0.05", "?heartbeat_s=61", "?heartbeat_s=x", "?after=-1"]) {
      const bad = await s.json(`/api/gateway/runs/${runId}/ledger/stream${q}`);
      assert.equal(bad.status, 422, q);
    }
    const badHeader = await s.json(`/api/gateway/runs/${runId}/ledger/stream`, {
      headers: { "Last-Event-ID": "x" },
    });
    assert.equal(badHeader.status, 422);
    const unknown = await s.json("/api/gateway/runs/nope/ledger/stream");
    assert.equal(unknown.status, 404);
    assert.match(unknown.res.headers.get("content-type") ?? "", /application\/json/);
    assert.deepEqual(unknown.body, { detail: "Run 'nope' not found" });
  } finally {
    await s.close();
  }
});

Deno.test("appends are pushed to the stream at once (no polling delay, heartbeat 60 s)", async () => {
  const s = await startServer({ bundles: [DEMO, ASK] });
  try {
    const runId = await startRun(s, { bundle_id: "ask" });
    await waitForRun(s, runId, (r) => r.status === "waiting");
    const existing = (await s.json(`/api/gateway/runs/${runId}/ledger`)).body.items.length;
    const res = await stream(s, runId, `?after=${existing}&heartbeat_s=60`);
    let appendedAt = 0;
    const received: number[] = [];
    setTimeout(async () => {
      appendedAt = Date.now();
      await s.gw.stores.ledger.append(runId, [record(runId, 1)]);
    }, 100);
    await readFrames(res, (f) => {
      if (f.event === "step") received.push(Date.now() - appendedAt);
      return received.length === 1;
    });
    assert.ok(received[0] < 1000, `received ${received[0]} ms after the append`);
  } finally {
    await s.close();
  }
});

for (const backend of ["file", "sqlite"]) {
  Deno.test(`${backend} store: clients that disconnect at random points and resume get every record once, in order`, () =>
    resumeScenario(backend));
}

async function resumeScenario(backend: string): Promise<void> {
  const s = await startServer({ bundles: [DEMO, ASK], env: { ABSTRACTGATEWAY_STORE_BACKEND: backend } });
  try {
    const runId = await startRun(s, { bundle_id: "ask" });
    await waitForRun(s, runId, (r) => r.status === "waiting");

    // A writer appends 300 records in random batches, then the run is cancelled (terminal records follow).
    const writer = (async () => {
      let i = 0;
      while (i < 300) {
        const batch = Array.from({ length: 1 + Math.floor(Math.random() * 7) }, () => record(runId, i++));
        await s.gw.stores.ledger.append(runId, batch);
        if (Math.random() < 0.3) await new Promise((r) => setTimeout(r, Math.random() * 4));
      }
      await s.json("/api/gateway/commands", postJson({ command_id: "end", run_id: runId, type: "cancel" }));
    })();

    const received: { cursor: number; record: StepRecord }[] = [];
    let cursor = 0;
    let connections = 0;
    let finished = false;
    while (!finished) {
      connections++;
      const useHeader = connections % 2 === 0;
      const res = await stream(
        s,
        runId,
        useHeader ? "?after=0&heartbeat_s=0.2" : `?after=${cursor}&heartbeat_s=0.2`,
        useHeader ? { "Last-Event-ID": String(cursor) } : {},
      );
      assert.equal(res.status, 200);
      const budget = 1 + Math.floor(Math.random() * 40);
      let taken = 0;
      const { frames } = await readFrames(res, (f) => f.event === "step" && ++taken >= budget);
      for (const f of frames) {
        if (f.event === "step") {
          const data = JSON.parse(f.data!);
          assert.equal(Number(f.id), data.cursor);
          received.push(data);
          cursor = data.cursor;
        }
        if (f.event === "done") {
          assert.equal(JSON.parse(f.data!).cursor, cursor);
          finished = true;
        }
      }
    }
    await writer;
    const all = [];
    for (let after = 0;;) {
      const page = (await s.json(`/api/gateway/runs/${runId}/ledger?after=${after}&limit=2000`)).body;
      all.push(...page.items);
      if (page.items.length === 0) break;
      after = page.next_after;
    }
    assert.ok(connections > 3, `only ${connections} connections`);
    assert.deepEqual(received.map((r) => r.cursor), all.map((_, i) => i + 1));
    assert.deepEqual(received.map((r) => r.record), all);
  } finally {
    await s.close();
  }
}

Deno.test("a disconnecting client releases its stream: no subscription or timer outlives it", async () => {
  const s = await startServer({ bundles: [DEMO, ASK] });
  try {
    const runId = await startRun(s, { bundle_id: "ask" });
    await waitForRun(s, runId, (r) => r.status === "waiting");
    await s.gw.stores.ledger.append(runId, Array.from({ length: 50 }, (_, i) => record(runId, i)));
    const wake = s.gw.stores.wake;
    const subscribe = wake.subscribe.bind(wake);
    let active = 0;
    wake.subscribe = (topic, listener) => {
      if (topic !== `ledger:${runId}`) return subscribe(topic, listener);
      active++;
      const unsubscribe = subscribe(topic, listener);
      let done = false;
      return () => {
        if (!done) active--;
        done = true;
        unsubscribe();
      };
    };
    // Disconnect right after the headers, mid-replay, and while idle (heartbeat 60 s).
    for (const budget of [0, 1, 10, 49, 50, 51]) {
      const res = await stream(s, runId, "?heartbeat_s=60");
      if (budget === 0) await res.body!.cancel();
      else {
        let n = 0;
        await readFrames(res, (f) => f.event === "step" ? ++n >= budget : n >= 50 && f.comment === undefined);
      }
    }
    const idle = await stream(s, runId, "?after=52&heartbeat_s=60");
    await readFrames(idle, (f) => f.retry !== undefined);
    const deadline = Date.now() + 3000;
    while (active > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(active, 0, "every stream unsubscribed after its client left");
    wake.subscribe = subscribe;
  } finally {
    await s.close();
  }
});

Deno.test("the stream of a run that is deleted (purged) while followed ends", async () => {
  const s = await startServer({ bundles: [DEMO, ASK] });
  try {
    const runId = await startRun(s, { bundle_id: "ask" });
    await waitForRun(s, runId, (r) => r.status === "waiting");
    const res = await stream(s, runId, "?heartbeat_s=0.2");
    setTimeout(() => void s.gw.stores.runs.delete(runId), 100);
    const { frames, closedByServer } = await readFrames(res);
    assert.ok(closedByServer);
    assert.ok(!frames.some((f) => f.event === "done"));
    assert.equal((await s.json(`/api/gateway/runs/${runId}/ledger/stream`)).status, 404);
  } finally {
    await s.close();
  }
});
