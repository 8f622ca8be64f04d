/**
 * The store contract: the same cases registered once per backend (file_test.ts, sqlite_test.ts).
 * Every case opens real stores on a fresh temp dir and closes them.
 */
import assert from "node:assert/strict";
import type { Stores } from "../../src/store/types.ts";
import { StoreValidationError } from "../../src/store/errors.ts";
import {
  appliedOutcome,
  eventually,
  iso,
  makeCommand,
  makeRecord,
  makeRun,
  makeWait,
  withTempDir,
} from "./fixtures.ts";

export type StoreFactory = (dataDir: string) => Promise<Stores>;

/** Runs `fn` with stores on a fresh temp data dir, then closes and removes everything. */
export async function withStores(factory: StoreFactory, fn: (stores: Stores, dir: string) => Promise<void>) {
  await withTempDir("gw-store-", async (dir) => {
    const stores = await factory(dir);
    try {
      await fn(stores, dir);
    } finally {
      await stores.close();
    }
  });
}

export function storeContract(backend: string, factory: StoreFactory): void {
  const test = (name: string, fn: (stores: Stores, dir: string) => Promise<void>) =>
    Deno.test(`${backend} store: ${name}`, () => withStores(factory, fn));

  test("run save, load, overwrite, delete (and the status of each)", async ({ runs }) => {
    assert.equal(await runs.load("missing"), null);
    assert.equal(await runs.status("missing"), null);
    const run = makeRun("r1");
    await runs.save(run);
    assert.deepEqual(await runs.load("r1"), run);
    assert.equal(await runs.status("r1"), run.status);
    const updated = { ...run, status: "completed" as const, output: { answer: 42 }, updated_at: iso(5) };
    await runs.save(updated);
    assert.deepEqual(await runs.load("r1"), updated);
    assert.equal(await runs.status("r1"), "completed");
    assert.equal(await runs.delete("r1"), true);
    assert.equal(await runs.delete("r1"), false);
    assert.equal(await runs.load("r1"), null);
    assert.equal(await runs.status("r1"), null);
  });

  test("unsafe run ids are rejected before anything is written", async ({ runs, ledger }) => {
    for (const id of ["", "../x", "a/b", "a\\b", ".."]) {
      await assert.rejects(runs.save(makeRun(id)), StoreValidationError);
      await assert.rejects(ledger.append(id, [makeRecord(id, 0)]), StoreValidationError);
    }
    assert.equal((await runs.list()).items.length, 0);
  });

  test("run list filters and newest-first order", async ({ runs }) => {
    await runs.save(makeRun("a", { updated_at: iso(1), created_at: iso(1), session_id: "s1" }));
    await runs.save(makeRun("b", { updated_at: iso(3), created_at: iso(2), status: "completed" }));
    await runs.save(
      makeRun("c", { updated_at: iso(2), created_at: iso(3), parent_run_id: "a", workflow_id: "w2" }),
    );
    await runs.save(makeRun("d", {
      updated_at: iso(4),
      created_at: iso(4),
      status: "waiting",
      actor_id: "someone",
      waiting: makeWait({ reason: "event", wait_key: "evt:session:s1:go" }),
    }));
    const ids = async (q: Parameters<typeof runs.list>[0]) => (await runs.list(q)).items.map((r) => r.run_id);
    assert.deepEqual(await ids({}), ["d", "b", "c", "a"]);
    assert.deepEqual(await ids({ status: "running" }), ["c", "a"]);
    assert.deepEqual(await ids({ status: ["completed", "waiting"] }), ["d", "b"]);
    assert.deepEqual(await ids({ workflowId: "w2" }), ["c"]);
    assert.deepEqual(await ids({ parentRunId: "a" }), ["c"]);
    assert.deepEqual(await ids({ sessionId: "s1" }), ["a"]);
    assert.deepEqual(await ids({ actorId: "someone" }), ["d"]);
    assert.deepEqual(await ids({ waitReason: "event" }), ["d"]);
    assert.deepEqual(await ids({ waitKey: "evt:session:s1:go" }), ["d"]);
    assert.deepEqual(await ids({ waitKey: "evt:other" }), []);
    assert.deepEqual(await ids({ createdAfter: iso(2), createdBefore: iso(3) }), ["b", "c"]);
  });

  test("run list paging with an opaque cursor visits every run once", async ({ runs }) => {
    for (let i = 0; i < 25; i++) {
      // pairs share updated_at so the run_id tie-break is exercised
      await runs.save(makeRun(`run-${String(i).padStart(2, "0")}`, { updated_at: iso(Math.floor(i / 2)) }));
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof runs.list>> = await runs.list({ limit: 7, cursor });
      assert.ok(page.items.length <= 7);
      seen.push(...page.items.map((r) => r.run_id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 4);
    assert.equal(new Set(seen).size, 25);
    const expected = Array.from({ length: 25 }, (_, i) => `run-${String(i).padStart(2, "0")}`).reverse();
    assert.deepEqual(seen, expected);
    await assert.rejects(runs.list({ cursor: "%%%not-a-cursor" }), StoreValidationError);
    await assert.rejects(runs.list({ limit: 0 }), StoreValidationError);
  });

  test("due until-waits, next wake time and children", async ({ runs }) => {
    const waitingUntil = (id: string, until: string, extra = {}) =>
      makeRun(id, { status: "waiting", waiting: makeWait({ reason: "until", until }), ...extra });
    await runs.save(waitingUntil("late", iso(30)));
    await runs.save(waitingUntil("early", iso(10), { parent_run_id: "p", created_at: iso(2) }));
    await runs.save(waitingUntil("mid", iso(20), { parent_run_id: "p", created_at: iso(1) }));
    await runs.save(
      makeRun("user-wait", { status: "waiting", waiting: makeWait({ reason: "user", until: iso(1) }) }),
    );
    assert.equal(await runs.nextWaitUntil(), iso(10));
    const none = new Set<string>();
    assert.deepEqual(await runs.listRunnable(iso(25), 10, none), ["early", "mid"]);
    assert.deepEqual(await runs.listRunnable(iso(25), 1, none), ["early"]);
    assert.deepEqual(await runs.listRunnable(iso(5), 10, none), []);
    assert.deepEqual((await runs.listChildren("p")).map((r) => r.run_id), ["mid", "early"]);
    // Leaving the wait removes it from the schedule.
    await runs.save(makeRun("early", { status: "running", parent_run_id: "p" }));
    assert.equal(await runs.nextWaitUntil(), iso(20));
    await runs.delete("mid");
    await runs.delete("late");
    assert.equal(await runs.nextWaitUntil(), null);
  });

  test("ledger append and offset reads", async ({ ledger }) => {
    assert.deepEqual(await ledger.read("r1", 0, 10), { items: [], next_after: 0 });
    assert.equal(await ledger.count("r1"), 0);
    assert.equal(await ledger.append("r1", [makeRecord("r1", 0)]), 1);
    assert.equal(await ledger.append("r1", [1, 2, 3].map((i) => makeRecord("r1", i))), 4);
    assert.equal(await ledger.append("r1", []), 4);
    assert.equal(await ledger.count("r1"), 4);
    const all = await ledger.read("r1", 0, 100);
    assert.deepEqual(all.items, [0, 1, 2, 3].map((i) => makeRecord("r1", i)));
    assert.equal(all.next_after, 4);
    const mid = await ledger.read("r1", 1, 2);
    assert.deepEqual(mid.items.map((r) => r.step_id), ["step-1", "step-2"]);
    assert.equal(mid.next_after, 3);
    assert.deepEqual(await ledger.read("r1", 4, 10), { items: [], next_after: 4 });
    assert.deepEqual(
      await ledger.read("r1", 9, 10),
      { items: [], next_after: 9 },
      "after beyond end is not clamped",
    );
    assert.deepEqual((await ledger.read("r1", 0, 0)).items, []);
    await assert.rejects(ledger.read("r1", -1, 10), StoreValidationError);
    assert.equal(await ledger.count("r2"), 0, "ledgers are per run");
    assert.equal(await ledger.delete("r1"), true);
    assert.equal(await ledger.delete("r1"), false);
    assert.equal(await ledger.count("r1"), 0);
    assert.equal(await ledger.append("r1", [makeRecord("r1", 9)]), 1, "a deleted ledger starts over");
  });

  test("appendWithRun (where offered) writes the records and the run together, with both wake-ups", async ({ runs, ledger, wake }) => {
    if (!ledger.appendWithRun) return; // the file store appends, then saves
    const topics: string[] = [];
    const off = wake.subscribe("*", (t) => topics.push(t));
    try {
      await ledger.append("aw", [makeRecord("aw", 0)]);
      const done = makeRun("aw", { status: "completed", output: { ok: true }, updated_at: iso(7) });
      assert.equal(await ledger.appendWithRun(done, [1, 2].map((i) => makeRecord("aw", i))), 3);
      assert.deepEqual(await runs.load("aw"), done);
      assert.deepEqual((await ledger.read("aw", 0, 10)).items, [0, 1, 2].map((i) => makeRecord("aw", i)));
      assert.ok(topics.includes("ledger:aw") && topics.includes("run:aw"), topics.join());
      // No records: the run is saved and the length is unchanged.
      const failed = { ...done, status: "failed" as const, error: "boom", updated_at: iso(8) };
      assert.equal(await ledger.appendWithRun(failed, []), 3);
      assert.deepEqual(await runs.load("aw"), failed);
      assert.equal(await ledger.appendWithRun(makeRun("fresh"), []), 0);
      assert.deepEqual(await runs.load("fresh"), makeRun("fresh"));
      assert.equal(await ledger.count("fresh"), 0);
      await assert.rejects(ledger.appendWithRun(makeRun("../x"), [makeRecord("x", 0)]), StoreValidationError);
    } finally {
      off();
    }
  });

  test("ledger replay of a long ledger page by page", async ({ ledger }) => {
    for (let batch = 0; batch < 10; batch++) {
      await ledger.append("long", Array.from({ length: 100 }, (_, i) => makeRecord("long", batch * 100 + i)));
    }
    let after = 0;
    const steps: string[] = [];
    for (;;) {
      const page = await ledger.read("long", after, 130);
      if (page.items.length === 0) break;
      steps.push(...page.items.map((r) => r.step_id));
      after = page.next_after;
    }
    assert.equal(after, 1000);
    assert.deepEqual(steps, Array.from({ length: 1000 }, (_, i) => `step-${i}`));
  });

  test("concurrent appends in one process keep every record in order", async ({ ledger }) => {
    const lengths = await Promise.all(
      Array.from(
        { length: 40 },
        (_, i) => ledger.append("c", [makeRecord("c", i), makeRecord("c", i + 1000)]),
      ),
    );
    assert.deepEqual([...lengths].sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => 2 * (i + 1)));
    const { items } = await ledger.read("c", 0, 1000);
    assert.equal(items.length, 80);
    for (let k = 0; k < 80; k += 2) {
      const i = Number(items[k].step_id.slice(5));
      assert.equal(items[k + 1].step_id, `step-${i + 1000}`, "a batch is contiguous");
    }
  });

  test("reads racing appends in one process see a consistent ledger", async ({ ledger }) => {
    let done = false;
    const seen: number[] = [];
    const reader = (async () => {
      while (!done) {
        // Like a real reader (an HTTP request), yield to the event loop between reads: a loop of
        // microtasks alone would starve the writers' commits (SQLite group commit, async fsyncs).
        await new Promise((r) => setTimeout(r, 0));
        const { items } = await ledger.read("race", 0, 10_000);
        seen.push(items.length);
        assert.equal(new Set(items.map((r) => r.step_id)).size, items.length, "no duplicate in a read");
      }
    })();
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        ledger.append(
          "race",
          [0, 1, 2].map((k) => makeRecord("race", i * 3 + k)),
        )),
    );
    done = true;
    await reader;
    assert.equal(await ledger.count("race"), 90);
    const { items } = await ledger.read("race", 0, 1000);
    assert.equal(new Set(items.map((r) => r.step_id)).size, 90);
    assert.ok(seen.length > 0);
  });

  test("command append is idempotent by command_id", async ({ commands }) => {
    assert.equal(await commands.lastSeq(), 0);
    assert.deepEqual(await commands.append(makeCommand("c1")), { accepted: true, duplicate: false, seq: 1 });
    assert.deepEqual(await commands.append(makeCommand("c2", "run-2")), {
      accepted: true,
      duplicate: false,
      seq: 2,
    });
    assert.deepEqual(await commands.append(makeCommand("c1", "other")), {
      accepted: false,
      duplicate: true,
      seq: 1,
    });
    assert.equal(await commands.lastSeq(), 2);
    const c1 = await commands.get("c1");
    assert.deepEqual(c1, { ...makeCommand("c1"), seq: 1 });
    assert.equal(await commands.get("nope"), null);
    assert.deepEqual((await commands.listAfter(0, 10)).map((c) => c.seq), [1, 2]);
    assert.deepEqual((await commands.listAfter(1, 10)).map((c) => c.command_id), ["c2"]);
    assert.deepEqual(await commands.listAfter(0, 1), [{ ...makeCommand("c1"), seq: 1 }]);
    assert.deepEqual(await commands.listAfter(2, 10), []);
  });

  test("command validation", async ({ commands }) => {
    const bad = [
      makeCommand(""),
      makeCommand("x", ""),
      makeCommand("x", "r", { type: "" as "pause" }),
      makeCommand("x", "r", { payload: [] as unknown as Record<string, never> }),
      makeCommand("x", "r", { payload: null as unknown as Record<string, never> }),
    ];
    for (const c of bad) await assert.rejects(commands.append(c), StoreValidationError);
    assert.equal(await commands.lastSeq(), 0, "nothing was written");
  });

  test("command outcome and cursor advance together", async ({ commands }) => {
    assert.equal(await commands.loadCursor(), 0);
    await commands.append(makeCommand("c1"));
    await commands.append(makeCommand("c2"));
    assert.equal(await commands.getOutcome("c1"), null);
    const outcome = {
      command_id: "c1",
      seq: 1,
      run_id: "run-1",
      type: "pause",
      status: "failed" as const,
      error: "Run is paused",
      applied_at: iso(1),
    };
    await commands.complete(outcome);
    assert.equal(await commands.loadCursor(), 1);
    assert.deepEqual(await commands.getOutcome("c1"), outcome);
    await commands.complete({ ...outcome, command_id: "c2", seq: 2, status: "applied", error: null });
    assert.equal(await commands.loadCursor(), 2);
    await commands.complete(outcome); // re-completing an old command never moves the cursor back
    assert.equal(await commands.loadCursor(), 2);
    assert.deepEqual(await commands.getOutcome("c1"), outcome, "the first outcome wins");
    assert.equal(await commands.loadCursor("other-consumer"), 0, "cursors are per consumer");
    await assert.rejects(commands.complete({ ...outcome, seq: 0 }), StoreValidationError);
  });

  test("concurrent appends: one seq per id, duplicates get the original's", async ({ commands }) => {
    const ids = ["g1", "g2", "g1", "g3", "g2"];
    const results = await Promise.all(ids.map((id) => commands.append(makeCommand(id))));
    const seqOf = new Map<string, number>();
    results.forEach((r, i) => {
      if (r.accepted) seqOf.set(ids[i], r.seq);
    });
    assert.equal(seqOf.size, 3, JSON.stringify(results));
    results.forEach((r, i) => assert.equal(r.seq, seqOf.get(ids[i]), `${ids[i]}: ${JSON.stringify(r)}`));
    assert.equal(results.filter((r) => r.duplicate).length, 2);
    // A bad command among good ones is refused alone.
    const mixed = await Promise.allSettled([
      commands.append(makeCommand("g4")),
      commands.append(makeCommand("")),
      commands.append(makeCommand("g5")),
    ]);
    assert.deepEqual(mixed.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
    const listed = await commands.listAfter(0, 10);
    assert.deepEqual(listed.map((c) => c.command_id).sort(), ["g1", "g2", "g3", "g4", "g5"]);
    assert.deepEqual(listed.map((c) => c.seq), [1, 2, 3, 4, 5]);
  });

  test("completeMany: a batch of outcomes and the cursor advance together", async ({ commands }) => {
    for (const id of ["m1", "m2", "m3"]) await commands.append(makeCommand(id));
    const outcome = (id: string, seq: number, status: "applied" | "failed" = "applied") => ({
      command_id: id,
      seq,
      run_id: "run-1",
      type: "resume",
      status,
      error: status === "failed" ? "Run is not waiting" : null,
      applied_at: iso(seq),
    });
    await commands.completeMany([]);
    assert.equal(await commands.loadCursor(), 0, "an empty batch changes nothing");
    await commands.completeMany([outcome("m1", 1), outcome("m2", 2, "failed"), outcome("m1", 1, "failed")]);
    assert.equal(await commands.loadCursor(), 2);
    assert.deepEqual(await commands.getOutcome("m1"), outcome("m1", 1), "the first outcome wins");
    assert.deepEqual(await commands.getOutcome("m2"), outcome("m2", 2, "failed"));
    await commands.completeMany([outcome("m2", 2), outcome("m3", 3)]);
    assert.equal(await commands.loadCursor(), 3);
    assert.equal((await commands.getOutcome("m2"))?.status, "failed", "a recorded outcome is kept");
    await commands.completeMany([outcome("m1", 1)], "other-consumer");
    assert.equal(await commands.loadCursor("other-consumer"), 1);
    assert.equal(await commands.loadCursor(), 3, "cursors are per consumer");
    await assert.rejects(commands.completeMany([outcome("m9", 9), outcome("", 10)]), StoreValidationError);
    assert.equal(await commands.getOutcome("m9"), null, "a batch with a bad outcome writes nothing");
    assert.equal(await commands.loadCursor(), 3);
  });

  test("artifacts: content-addressed blobs, per-run listing, delete", async ({ artifacts }) => {
    const bytes = new TextEncoder().encode("hello artifact");
    const a = await artifacts.store(bytes, {
      run_id: "r1",
      content_type: "text/plain",
      tags: { kind: "text" },
    });
    assert.match(a.artifact_id, /^[0-9a-f]{32}$/);
    assert.match(a.blob_id, /^[0-9a-f]{64}$/);
    assert.equal(a.size_bytes, bytes.length);
    const again = await artifacts.store(bytes, { run_id: "r1", content_type: "text/plain" });
    assert.equal(again.artifact_id, a.artifact_id, "same run + bytes = same id");
    const b = await artifacts.store(bytes, { run_id: "r2", filename: "b.txt" });
    assert.notEqual(b.artifact_id, a.artifact_id);
    assert.equal(b.blob_id, a.blob_id, "one blob for both runs");
    const named = await artifacts.store(new Uint8Array([1, 2, 3]), { artifact_id: "my_id-1", run_id: "r1" });
    assert.equal(named.artifact_id, "my_id-1");
    const loaded = await artifacts.load(a.artifact_id);
    assert.deepEqual(loaded?.content, bytes);
    assert.equal(loaded?.meta.content_type, "text/plain");
    assert.deepEqual((await artifacts.getMetadata(b.artifact_id))?.filename, "b.txt");
    assert.deepEqual(
      new Set((await artifacts.listByRun("r1")).map((m) => m.artifact_id)),
      new Set([a.artifact_id, "my_id-1"]),
    );
    assert.equal(await artifacts.getMetadata("missing"), null);
    assert.equal(await artifacts.load("../etc"), null);
    await assert.rejects(artifacts.store(bytes, { artifact_id: "bad/id" }), StoreValidationError);
    assert.equal(await artifacts.delete(a.artifact_id), true);
    assert.equal(await artifacts.delete(a.artifact_id), false);
    assert.deepEqual((await artifacts.load(b.artifact_id))?.content, bytes, "a shared blob survives");
  });

  test("wake-ups after durable writes", async ({ runs, ledger, commands, wake }) => {
    const got: string[] = [];
    const all: string[] = [];
    const offLedger = wake.subscribe("ledger:w1", (t) => got.push(t));
    const offAll = wake.subscribe("*", (t) => all.push(t));
    // A run's save is published as `run:<id>`, which `runs` listeners receive too.
    const runTopics: string[] = [];
    const offRuns = wake.subscribe("runs", (t) => runTopics.push(t));
    await ledger.append("w1", [makeRecord("w1", 0)]);
    await ledger.append("w2", [makeRecord("w2", 0)]);
    await commands.append(makeCommand("c1"));
    await runs.save(makeRun("w1"));
    assert.ok(got.includes("ledger:w1"));
    assert.ok(!got.includes("ledger:w2"));
    for (const t of ["ledger:w1", "ledger:w2", "commands", "run:w1"]) assert.ok(all.includes(t), t);
    assert.ok(runTopics.includes("run:w1"));
    assert.ok(!runTopics.some((t) => t.startsWith("ledger:")));
    offLedger();
    offAll();
    offRuns();
    const before = got.length;
    await ledger.append("w1", [makeRecord("w1", 1)]);
    assert.equal(got.length, before, "unsubscribed");
  });

  test("data survives close and reopen", async (stores, dir) => {
    await stores.runs.save(makeRun("p1"));
    await stores.ledger.append("p1", [makeRecord("p1", 0), makeRecord("p1", 1)]);
    await stores.commands.append(makeCommand("c1", "p1"));
    await stores.commands.complete(appliedOutcome("c1", 1, "p1"));
    const reopened = await factory(dir);
    try {
      assert.deepEqual(await reopened.runs.load("p1"), makeRun("p1"));
      assert.equal(await reopened.ledger.count("p1"), 2);
      assert.equal(await reopened.commands.lastSeq(), 1);
      assert.equal(await reopened.commands.loadCursor(), 1);
      assert.deepEqual((await reopened.commands.append(makeCommand("c1"))).seq, 1);
      assert.deepEqual((await reopened.commands.append(makeCommand("c2"))).seq, 2);
    } finally {
      await reopened.close();
    }
  });

  test("runnable ids: FIFO across running runs and due waits; paused, foreign, excluded, not due skipped", async ({ runs }) => {
    const none = new Set<string>();
    for (const run of runnableFixture()) await runs.save(run);
    // ready since: r-old iso(1), w-due its until iso(3), r-new iso(5)
    assert.deepEqual(await runs.listRunnable(iso(10), 10, none), ["r-old", "w-due", "r-new"]);
    assert.deepEqual(await runs.listRunnable(iso(10), 2, none), ["r-old", "w-due"]);
    assert.deepEqual(await runs.listRunnable(iso(2), 10, none), ["r-old", "r-new"]);
    assert.deepEqual(await runs.listRunnable(iso(10), 10, new Set(["r-old", "w-due"])), ["r-new"]);
    // unpausing, pausing and finishing move runs in and out of the list
    await runs.save(makeRun("paused", { updated_at: iso(6) }));
    await runs.save(makeRun("r-old", { updated_at: iso(7), vars: pausedVars }));
    await runs.save(makeRun("r-new", { status: "completed", updated_at: iso(8) }));
    assert.deepEqual(await runs.listRunnable(iso(10), 10, none), ["w-due", "paused"]);
    await runs.delete("w-due");
    assert.deepEqual(await runs.listRunnable(iso(10), 10, none), ["paused"]);
  });

  test("runnable ids after a restart and after another instance's writes", async (stores, dir) => {
    const other = await factory(dir);
    const off = other.wake.subscribe("runs", () => {});
    try {
      const expected = ["r-old", "w-due", "r-new"];
      for (const run of runnableFixture()) await stores.runs.save(run);
      await eventually(async () =>
        (await other.runs.listRunnable(iso(10), 10, new Set())).join() === expected.join()
      );
      const restarted = await factory(dir);
      try {
        assert.deepEqual(await restarted.runs.listRunnable(iso(10), 10, new Set()), expected);
        await restarted.runs.save(makeRun("r-old", { status: "cancelled", updated_at: iso(9) }));
      } finally {
        await restarted.close();
      }
      const after = ["w-due", "r-new"].join();
      await eventually(async () => (await other.runs.listRunnable(iso(10), 10, new Set())).join() === after);
      assert.deepEqual(await stores.runs.listRunnable(iso(10), 10, new Set()), ["w-due", "r-new"]);
    } finally {
      off();
      await other.close();
    }
  });

  test("a watched second instance's run queries follow this one's saves and deletes", async (stores, dir) => {
    const other = await factory(dir);
    const off = other.wake.subscribe("runs", () => {});
    // well within the file store's periodic full re-scan: only the watch events can make it in time
    const soon = (predicate: () => Promise<boolean>) => eventually(predicate, 2_000);
    try {
      const ids = async (q: Parameters<typeof other.runs.list>[0]) =>
        (await other.runs.list(q)).items.map((r) => r.run_id);
      assert.deepEqual(await ids({ status: "running" }), []);
      await stores.runs.save(makeRun("p1", { updated_at: iso(1) }));
      await stores.runs.save(makeRun("k1", { parent_run_id: "p1", updated_at: iso(2) }));
      await soon(async () => (await ids({ status: "running" })).length === 2);
      assert.deepEqual((await other.runs.listChildren("p1")).map((r) => r.run_id), ["k1"]);
      const until = iso(9);
      await stores.runs.save(
        makeRun("p1", { status: "waiting", waiting: makeWait({ until }), updated_at: iso(3) }),
      );
      await soon(async () => (await other.runs.nextWaitUntil()) === until);
      await stores.runs.save(makeRun("k1", { parent_run_id: "p1", status: "completed", updated_at: iso(4) }));
      await soon(async () => (await ids({ status: "running" })).length === 0);
      assert.deepEqual(await ids({ status: "completed" }), ["k1"]);
      await stores.runs.delete("k1");
      await soon(async () => (await ids({})).join() === "p1");
      assert.deepEqual(await other.runs.listChildren("p1"), []);
    } finally {
      off();
      await other.close();
    }
  });

  test("a second instance on the same data dir sees writes and gets woken", async (stores, dir) => {
    const other = await factory(dir);
    try {
      const woken: string[] = [];
      const off = other.wake.subscribe("ledger:x1", (t) => woken.push(t));
      const offCommands = other.wake.subscribe("commands", (t) => woken.push(t));
      await stores.ledger.append("x1", [makeRecord("x1", 0)]);
      await stores.commands.append(makeCommand("c1"));
      await eventually(() => woken.includes("ledger:x1") && woken.includes("commands"));
      assert.equal(await other.ledger.count("x1"), 1);
      assert.equal(await other.commands.lastSeq(), 1);
      await stores.runs.save(makeRun("x1", { status: "running" }));
      assert.equal(await other.runs.status("x1"), "running");
      const offRuns = other.wake.subscribe("runs", (t) => woken.push(t));
      await stores.runs.save(makeRun("x1", { status: "completed" }));
      // Precise (`run:x1`) where the backend can tell which run changed, `runs` where it cannot (SQLite).
      await eventually(() => woken.includes("run:x1") || woken.includes("runs"));
      assert.equal(await other.runs.status("x1"), "completed"); // not the status it saw before
      assert.equal((await other.runs.load("x1"))?.status, "completed");
      offRuns();
      // the other instance appends after this one: no seq reuse, no lost record
      assert.equal((await other.commands.append(makeCommand("c2"))).seq, 2);
      assert.equal(await other.ledger.append("x1", [makeRecord("x1", 1)]), 2);
      assert.equal((await stores.ledger.read("x1", 1, 10)).items[0].step_id, "step-1");
      off();
      offCommands();
    } finally {
      await other.close();
    }
  });
}

const pausedVars = { _runtime: { control: { paused: true } } };

/** Runs of every kind for the runnable-ids cases (see the expected orders there). */
function runnableFixture() {
  const waitingUntil = (id: string, until: string, extra = {}) =>
    makeRun(id, {
      status: "waiting",
      waiting: makeWait({ reason: "until", until }),
      updated_at: iso(0),
      ...extra,
    });
  return [
    makeRun("r-new", { updated_at: iso(5) }),
    makeRun("r-old", { updated_at: iso(1) }),
    makeRun("paused", { updated_at: iso(0), vars: pausedVars }),
    makeRun("foreign", { updated_at: iso(0), actor_id: "someone" }),
    makeRun("done", { status: "completed", updated_at: iso(0) }),
    makeRun("asking", {
      status: "waiting",
      waiting: makeWait({ reason: "user", until: iso(1) }),
      updated_at: iso(0),
    }),
    waitingUntil("w-due", iso(3)),
    waitingUntil("w-later", iso(30)),
    waitingUntil("w-paused", iso(2), { vars: pausedVars }),
  ];
}
