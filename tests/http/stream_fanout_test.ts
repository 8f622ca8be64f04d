/**
 * SSE fan-out over real HTTP: many streams of one run share one ledger read per append and receive
 * the same bytes in order, streams joining mid-append get no gap or duplicate, a stalled consumer is
 * ended without holding the others back, and a run's hub goes away with its last stream.
 */
import assert from "node:assert/strict";
import { askUserFlow } from "../helpers/bundles.ts";
import { parseExposition } from "../metrics/exposition.ts";
import { DEMO, postJson, startRun, startServer, type TestServer, waitForRun } from "./harness.ts";
import { readFrames, type SseFrame } from "./sse_client.ts";
import { syntheticRecord } from "../helpers/step_records.ts";

const ASK = { bundleId: "ask", version: "1.0.0", flows: { root: askUserFlow("root") } };
const LIMITS = { ABSTRACTGATEWAY_MAX_SSE: "512", ABSTRACTGATEWAY_MAX_SSE_PER_TOKEN: "512" };
const stream = (s: TestServer, runId: string, after: number) =>
  s.fetch(`/api/gateway/runs/${runId}/ledger/stream?after=${after}&heartbeat_s=30`);
const steps = (frames: SseFrame[]) => frames.filter((f) => f.event === "step");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const record = (runId: string, i: number, text = "é✓") => syntheticRecord(runId, i, "ask", { i, text });

async function gauge(s: TestServer, name: string): Promise<number | undefined> {
  const text = await (await s.fetch("/metrics")).text();
  return parseExposition(text).samples.find((x) => x.name === name)?.value;
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await sleep(10);
  }
  throw new Error(`condition not reached: ${what}`);
}

async function waitingRun(s: TestServer): Promise<{ runId: string; length: number }> {
  const runId = await startRun(s, { bundle_id: "ask" });
  await waitForRun(s, runId, (r) => r.status === "waiting");
  return { runId, length: await s.gw.stores.ledger.count(runId) };
}

for (const backend of ["file", "sqlite"]) {
  Deno.test(`${backend} store: streams joining a run mid-append get identical frames, in order, no gap or duplicate`, async () => {
    const s = await startServer({
      bundles: [DEMO, ASK],
      env: { ...LIMITS, ABSTRACTGATEWAY_STORE_BACKEND: backend },
    });
    try {
      const { runId } = await waitingRun(s);
      const joined: Promise<{ after: number; frames: SseFrame[] }>[] = [];
      const total = 240;
      for (let i = 0; i < total;) {
        const batch = Array.from({ length: 1 + (i % 5) }, () => record(runId, i++));
        await s.gw.stores.ledger.append(runId, batch);
        // Streams join while the writer appends, from a cursor behind the live end (replay first).
        if (joined.length < 24 && i % 3 === 0) {
          const after = Math.floor(Math.random() * i);
          joined.push(
            stream(s, runId, after).then(async (res) => ({ after, frames: (await readFrames(res)).frames })),
          );
        }
        if (i % 7 === 0) await sleep(1);
      }
      await s.json("/api/gateway/commands", postJson({ command_id: "end", run_id: runId, type: "cancel" }));
      const results = await Promise.all(joined);
      const final = await s.gw.stores.ledger.count(runId);
      const byCursor = new Map<string, string>();
      for (const { after, frames } of results) {
        const ids = steps(frames).map((f) => Number(f.id));
        assert.deepEqual(
          ids,
          Array.from({ length: final - after }, (_, k) => after + k + 1),
          `from ${after}`,
        );
        for (const f of steps(frames)) {
          const seen = byCursor.get(f.id!);
          if (seen === undefined) byCursor.set(f.id!, f.raw);
          else assert.equal(f.raw, seen, `frame ${f.id} differs between streams`);
        }
        assert.equal(
          frames.at(-1)!.raw,
          `event: done\ndata: {"run_id": "${runId}", "cursor": ${final}, "status": "terminal"}`,
        );
      }
      await until("hubs released", async () => (await gauge(s, "gateway_sse_hubs")) === 0);
    } finally {
      await s.close();
    }
  });
}

Deno.test("100 streams of one run: one ledger read per append, shared by all of them", async () => {
  const s = await startServer({ bundles: [DEMO, ASK], env: LIMITS, runner: false });
  try {
    const runId = await startRun(s, { bundle_id: "demo" }); // stays queued: the runner is off
    const length = await s.gw.stores.ledger.count(runId);
    const readers = await Promise.all(Array.from({ length: 100 }, async () => {
      const res = await stream(s, runId, length);
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      return {
        reader,
        /** Reads until `n` step frames have arrived in total. */
        async upTo(n: number) {
          while ((text.match(/event: step/g) ?? []).length < n) text += (await reader.read()).value ?? "";
        },
      };
    }));
    await until("every stream joined its hub", async () => (await gauge(s, "gateway_sse_hubs")) === 1);
    await sleep(50); // let the hub's first state check and count settle
    const ledger = s.gw.stores.ledger;
    const read = ledger.read.bind(ledger);
    let reads = 0;
    ledger.read = (...args) => {
      reads++;
      return read(...args);
    };
    const appends = 10;
    try {
      for (let i = 1; i <= appends; i++) {
        await ledger.append(runId, [record(runId, i)]);
        await Promise.all(readers.map((r) => r.upTo(i)));
      }
    } finally {
      ledger.read = read;
    }
    // At most two per append (the file store's watcher repeats the in-process wake-up), not one per stream.
    assert.ok(reads <= appends * 2 + 2, `${reads} ledger reads for ${appends} appends to 100 streams`);
    await Promise.all(readers.map((r) => r.reader.cancel()));
    await until("hub released", async () => (await gauge(s, "gateway_sse_hubs")) === 0);
  } finally {
    await s.close();
  }
});

Deno.test("a stalled consumer does not hold back the run's other streams and is ended; hubs go with the last stream", async () => {
  const s = await startServer({ bundles: [DEMO, ASK], env: LIMITS });
  try {
    const { runId, length } = await waitingRun(s);
    const other = await waitingRun(s);
    const stalled = await stream(s, runId, length); // never read until the end
    const live = await stream(s, runId, length);
    const bystander = await stream(s, other.runId, other.length);
    await until("two hubs", async () => (await gauge(s, "gateway_sse_hubs")) === 2);

    // 24 MiB through one run: far more than a stream may queue (1 MiB) plus the loopback buffers.
    const big = "x".repeat(256 * 1024);
    const total = 96;
    const reading = readFrames(live, (f) => f.event === "step" && Number(f.id) === length + total);
    for (let i = 0; i < total; i += 4) {
      await s.gw.stores.ledger.append(runId, Array.from({ length: 4 }, (_, k) => record(runId, i + k, big)));
      await sleep(5);
    }
    const got = steps((await reading).frames).map((f) => Number(f.id));
    assert.deepEqual(
      got,
      Array.from({ length: total }, (_, k) => length + k + 1),
      "the reading stream got everything",
    );

    const { frames, closedByServer } = await readFrames(stalled);
    assert.ok(closedByServer, "the stalled stream was ended");
    assert.match(frames.at(-1)!.comment ?? "", /Last-Event-ID/);
    const ids = steps(frames).map((f) => Number(f.id));
    assert.ok(ids.length < total, `the stalled stream was cut short (${ids.length} frames)`);
    assert.deepEqual(
      ids,
      Array.from({ length: ids.length }, (_, k) => length + k + 1),
      "what it got has no gap",
    );
    // The live stream (cancelled by readFrames) was the last one of its run: only the bystander's hub is left.
    await until("one hub left", async () => (await gauge(s, "gateway_sse_hubs")) === 1);
    // The bystander stalls too, as its run's only stream: ending it for overflow drops that hub as well.
    for (let i = 0; i < total; i += 4) {
      await s.gw.stores.ledger.append(
        other.runId,
        Array.from({ length: 4 }, (_, k) => record(other.runId, i + k, big)),
      );
      await sleep(5);
    }
    await until("no hub left", async () => (await gauge(s, "gateway_sse_hubs")) === 0);
    assert.ok((await readFrames(bystander)).closedByServer);
    assert.equal(await gauge(s, "gateway_sse_streams_open"), 0);
  } finally {
    await s.close();
  }
});

Deno.test("a slow reader replaying a ledger far larger than the queue limit gets all of it, then done", async () => {
  const s = await startServer({ bundles: [DEMO, ASK] });
  try {
    const { runId, length } = await waitingRun(s);
    const big = "y".repeat(256 * 1024);
    for (let i = 0; i < 24; i += 4) {
      await s.gw.stores.ledger.append(runId, Array.from({ length: 4 }, (_, k) => record(runId, i + k, big)));
    }
    await s.json("/api/gateway/commands", postJson({ command_id: "end", run_id: runId, type: "cancel" }));
    await waitForRun(s, runId, (r) => r.status === "cancelled");
    const final = await s.gw.stores.ledger.count(runId);
    const res = await stream(s, runId, 0);
    // Read slowly: the server must wait for this reader, not give up on it.
    const slow = res.body!.pipeThrough(
      new TransformStream({
        async transform(chunk, controller) {
          await sleep(2);
          controller.enqueue(chunk);
        },
      }),
    );
    const { frames, closedByServer } = await readFrames(new Response(slow));
    assert.ok(closedByServer);
    assert.deepEqual(steps(frames).map((f) => Number(f.id)), Array.from({ length: final }, (_, k) => k + 1));
    assert.equal(frames.at(-1)!.event, "done");
    assert.ok(final >= length + 24);
  } finally {
    await s.close();
  }
});

Deno.test("server close waits for a hub's store read still in flight when its last stream went away", async () => {
  const s = await startServer({ bundles: [DEMO], env: LIMITS, runner: false });
  const ledger = s.gw.stores.ledger;
  const count = ledger.count.bind(ledger);
  const held = Promise.withResolvers<void>();
  const counting = Promise.withResolvers<void>();
  let closedFirst: boolean | null = null;
  try {
    const runId = await startRun(s, { bundle_id: "demo" });
    // The hub's first read (the ledger length) is held open until the test lets it go.
    ledger.count = async (id) => {
      counting.resolve();
      await held.promise;
      return count(id);
    };
    const res = await stream(s, runId, 0);
    await counting.promise;
    await res.body!.cancel();
  } finally {
    let closed = false;
    const closing = s.close().then(() => closed = true);
    await sleep(100);
    closedFirst = closed;
    held.resolve();
    await closing;
    ledger.count = count;
  }
  assert.equal(
    closedFirst,
    false,
    "the server closed (and its stores with it) while a hub's read was in flight",
  );
});

Deno.test("server shutdown ends every open ledger and run-change stream, without done", async () => {
  const s = await startServer({ bundles: [DEMO], env: LIMITS, runner: false });
  let closing: Promise<void> | null = null;
  try {
    const runId = await startRun(s, { bundle_id: "demo" }); // stays queued: the runner is off
    const opened = await Promise.all([
      ...Array.from({ length: 5 }, () => stream(s, runId, 0)),
      ...Array.from({ length: 3 }, () => s.fetch("/api/gateway/runs/changes/stream?heartbeat_s=30")),
    ]);
    const read = opened.map((res) => readFrames(res));
    await until("every ledger stream joined its hub", async () => (await gauge(s, "gateway_sse_hubs")) === 1);
    closing = s.close();
    for (const { frames, closedByServer } of await Promise.all(read)) {
      assert.ok(closedByServer);
      assert.ok(frames.length > 0 && frames.every((f) => f.event !== "done"), JSON.stringify(frames));
    }
  } finally {
    await (closing ?? s.close());
  }
});
