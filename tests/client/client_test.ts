/** GatewayClient against a real in-process gateway: calls, idempotent commands, and `follow`. */
import assert from "node:assert/strict";
import { type CursorRecord, FollowError, GatewayClient, GatewayHttpError } from "../../src/client/client.ts";
import { askUserFlow, startEndFlow } from "../helpers/bundles.ts";
import { startServer, type TestServer, TOKEN } from "../http/harness.ts";

const BUNDLE = {
  bundleId: "demo",
  version: "0.0.1",
  flows: { root: startEndFlow("root"), ask: askUserFlow("ask") },
};

/**
 * `c()` builds a client for the current server (its port changes on restart). Follows pass `cleanup`
 * as their signal: it is aborted before the server closes, so a failing test leaves no follow running.
 */
async function withClient(
  fn: (s: TestServer, c: () => GatewayClient, cleanup: AbortSignal) => Promise<void>,
): Promise<void> {
  const s = await startServer({ bundles: [BUNDLE] });
  const cleanup = new AbortController();
  try {
    await fn(s, () => new GatewayClient({ baseUrl: s.base, token: TOKEN }), cleanup.signal);
  } finally {
    cleanup.abort();
    await s.close();
  }
}

async function waitStatus(client: GatewayClient, runId: string, status: string) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const run = await client.getRun(runId);
    if (run.status === status) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} never reached ${status}: ${run.status}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

async function fullLedger(client: GatewayClient, runId: string) {
  const page = await client.ledger(runId, 0, 1000);
  return page.items;
}

/** "ended" when `p` settles within `ms`, else "timeout" (the timer is always cleared). */
async function within(p: Promise<unknown>, ms: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<string>((r) => (timer = setTimeout(() => r("timeout"), ms)));
  try {
    return await Promise.race([p.then(() => "ended"), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function assertExactlyOnce(got: CursorRecord[], expected: unknown[], after = 0): void {
  assert.deepEqual(got.map((r) => r.cursor), expected.map((_, i) => after + i + 1), "cursors 1..n in order");
  assert.deepEqual(got.map((r) => r.record), expected);
}

Deno.test("client: startRun, getRun, ledger, and idempotent commands", async () => {
  await withClient(async (_s, c) => {
    const client = c();
    const { run_id } = await client.startRun({ bundle_id: "demo", flow_id: "root" });
    assert.match(run_id, /\S+/);
    const run = await waitStatus(client, run_id, "completed");
    assert.equal(run.run_id, run_id);

    const page = await client.ledger(run_id);
    assert.ok(page.items.length >= 1);
    assert.equal(page.next_after, page.items.length);
    const tail = await client.ledger(run_id, page.items.length);
    assert.deepEqual(tail.items, []);
    assert.equal(tail.next_after, page.items.length);
    const second = await client.ledger(run_id, 1, 1);
    assert.deepEqual(second.items, page.items.slice(1, 2));

    const command_id = crypto.randomUUID();
    const first = await client.command({ run_id, type: "pause", command_id });
    assert.equal(first.accepted, true);
    assert.equal(first.duplicate, false);
    assert.ok(first.seq >= 1);
    const retry = await client.command({ run_id, type: "pause", command_id });
    assert.deepEqual(retry, { accepted: false, duplicate: true, seq: first.seq, command_id });
    const other = await client.command({ run_id, type: "pause" });
    assert.equal(other.duplicate, false);
    assert.ok(other.seq > first.seq, "a fresh command_id gets a new seq");

    await assert.rejects(client.getRun("no-such-run"), (err) => {
      assert.ok(err instanceof GatewayHttpError);
      assert.equal(err.status, 404);
      return true;
    });
    const anon = new GatewayClient({ baseUrl: _s.base });
    await assert.rejects(anon.getRun(run_id), (err) => err instanceof GatewayHttpError && err.status === 401);
  });
});

Deno.test("client: listRuns, typed waiting state, answer and command status", async () => {
  await withClient(async (_s, c) => {
    const client = c();
    const { run_id } = await client.startRun({ bundle_id: "demo", flow_id: "ask" });
    const run = await waitStatus(client, run_id, "waiting");
    assert.equal(run.waiting?.reason, "user");
    assert.equal(typeof run.waiting?.wait_key, "string");
    const page = await client.listRuns({ status: "waiting", limit: 5 });
    assert.deepEqual(page.items.map((r) => r.run_id), [run_id]);
    assert.equal(page.items[0].waiting?.reason, "user");
    assert.deepEqual((await client.listRuns({ status: "failed" })).items, []);

    const sent = await client.answer(run, "yes");
    const status = await client.waitCommand(sent.command_id);
    assert.equal(status.status, "applied");
    assert.equal(status.type, "resume");
    assert.equal(status.run_id, run_id);
    await waitStatus(client, run_id, "completed");
    assert.throws(
      () => client.answer({ run_id, waiting: null }, "again"),
      /Cannot answer run .*: it is not waiting/,
    );
    await assert.rejects(client.commandStatus("no-such-command"), (err) => {
      assert.ok(err instanceof GatewayHttpError);
      return err.status === 404;
    });
  });
});

Deno.test("client: follow yields every record once, in order, across a wait and a resume", async () => {
  await withClient(async (_s, c, signal) => {
    const client = c();
    const { run_id } = await client.startRun({ bundle_id: "demo", flow_id: "ask" });
    const got: CursorRecord[] = [];
    const following = (async () => {
      for await (const item of client.follow(run_id, { signal })) got.push(item);
    })();
    const waiting = await waitStatus(client, run_id, "waiting");
    const wait_key = (waiting.waiting as { wait_key: string }).wait_key;
    await client.command({ run_id, type: "resume", payload: { wait_key, payload: { response: "Ada" } } });
    await following; // returns by itself after `done`
    assert.equal((await client.getRun(run_id)).status, "completed");
    const all = await fullLedger(client, run_id);
    assert.ok(all.length >= 3);
    assertExactlyOnce(got, all);
    assert.ok(got.some((r) => r.record.status === "waiting"), "the wait was streamed");
  });
});

Deno.test("client: follow survives a server restart mid-stream without loss or repeats", async () => {
  await withClient(async (s, c, signal) => {
    // Each request is sent to the current server (its port changes on restart). Streams get their own
    // abort controller so the test can drop them like a network failure would (see below).
    const streams: AbortController[] = [];
    let streamOpen = Promise.withResolvers<void>();
    const client = new GatewayClient({
      baseUrl: "http://gateway.invalid",
      token: TOKEN,
      fetch: async (input, init) => {
        const url = String(input).replace("http://gateway.invalid", s.base);
        if (!url.includes("/ledger/stream")) return await fetch(url, init);
        const drop = new AbortController();
        streams.push(drop);
        const signals = init?.signal ? [drop.signal, init.signal] : [drop.signal];
        const res = await fetch(url, { ...init, signal: AbortSignal.any(signals) });
        streamOpen.resolve();
        return res;
      },
    });
    const { run_id } = await c().startRun({ bundle_id: "demo", flow_id: "ask" });
    const got: CursorRecord[] = [];
    const sawWait = Promise.withResolvers<void>();
    const following = (async () => {
      for await (const item of client.follow(run_id, { reconnectDelayMs: 50, signal })) {
        got.push(item);
        if (item.record.status === "waiting") sawWait.resolve();
      }
    })();
    // Replay done and following the live stream of the waiting run.
    await Promise.all([streamOpen.promise, sawWait.promise]);
    const before = got.length;
    streamOpen = Promise.withResolvers<void>();

    // The server ends its SSE streams when it shuts down; the client reconnects from its cursor.
    await s.restart(300);

    await streamOpen.promise; // reconnected to the new server from the cursor
    const waiting = await waitStatus(c(), run_id, "waiting");
    const wait_key = (waiting.waiting as { wait_key: string }).wait_key;
    await c().command({ run_id, type: "resume", payload: { wait_key, payload: { response: "Bo" } } });
    await following;
    assert.ok(streams.length >= 2, "the client opened a new stream after the restart");
    assert.ok(got.length > before, "records after the restart arrived");
    assertExactlyOnce(got, await fullLedger(c(), run_id));
  });
});

Deno.test("client: follow with after=N skips the first N records", async () => {
  await withClient(async (_s, c) => {
    const client = c();
    const { run_id } = await client.startRun({ bundle_id: "demo", flow_id: "root" });
    await waitStatus(client, run_id, "completed");
    const all = await fullLedger(client, run_id);
    assert.ok(all.length >= 2);
    for (const after of [1, all.length - 1, all.length]) {
      const got: CursorRecord[] = [];
      for await (const item of client.follow(run_id, { after })) got.push(item);
      assertExactlyOnce(got, all.slice(after), after);
    }
    const small: CursorRecord[] = [];
    for await (const item of client.follow(run_id, { pageSize: 1 })) small.push(item);
    assertExactlyOnce(small, all);
  });
});

Deno.test("client: aborting the signal ends a follow on a waiting run promptly", async () => {
  await withClient(async (_s, c, cleanup) => {
    const client = c();
    const { run_id } = await client.startRun({ bundle_id: "demo", flow_id: "ask" });
    await waitStatus(client, run_id, "waiting");
    const abort = new AbortController();
    const signal = AbortSignal.any([abort.signal, cleanup]);
    const got: CursorRecord[] = [];
    const following = (async () => {
      for await (const item of client.follow(run_id, { signal })) got.push(item);
    })();
    const deadline = Date.now() + 5_000;
    const total = (await fullLedger(client, run_id)).length;
    while (got.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(got.length, total, "replayed the records so far, then blocked on the stream");
    abort.abort();
    assert.equal(await within(following, 2_000), "ended");
    assert.equal((await client.getRun(run_id)).status, "waiting", "aborting a follow changes nothing");
  });
});

Deno.test("client: follow on an unknown run rejects with 404 instead of retrying", async () => {
  await withClient(async (_s, c) => {
    const iter = c().follow("no-such-run");
    await assert.rejects(
      iter.next(),
      (err) =>
        err instanceof FollowError && err.cause instanceof GatewayHttpError && err.cause.status === 404,
    );
  });
});
