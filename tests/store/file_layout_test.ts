/** File backend specifics: upstream layout and shapes, torn and odd JSONL lines, corrupt files. */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Stores } from "../../src/store/types.ts";
import { StoreCorruptError } from "../../src/store/types.ts";
import { openStores } from "../../src/store/open.ts";
import { withStores } from "./contract.ts";
import { eventually, iso, makeCommand, makeRecord, makeRun, withTempDir } from "./fixtures.ts";
import { compatTest } from "../helpers/compat.ts";
import { copySamples, ownSamples, upstreamSamples } from "./samples.ts";

const openFile = (dataDir: string) => openStores({ backend: "file", dataDir });
const test = (name: string, fn: (stores: Stores, dir: string) => Promise<void>) =>
  Deno.test(`file layout: ${name}`, () => withStores(openFile, fn));

const line = (value: unknown) => JSON.stringify(value) + "\n";

test("run files, ledgers, commands and cursor use the upstream names and shapes", async (stores, dir) => {
  const run = makeRun("u1");
  await stores.runs.save(run);
  assert.equal(await Deno.readTextFile(join(dir, "run_u1.json")), JSON.stringify(run, null, 2));
  await stores.ledger.append("u1", [makeRecord("u1", 0), makeRecord("u1", 1)]);
  assert.equal(
    await Deno.readTextFile(join(dir, "ledger_u1.jsonl")),
    line(makeRecord("u1", 0)) + line(makeRecord("u1", 1)),
  );
  await stores.commands.append(makeCommand("c1", "u1"));
  const cmdLine = await Deno.readTextFile(join(dir, "commands.jsonl"));
  assert.equal(cmdLine, line({ ...makeCommand("c1", "u1"), seq: 1 }));
  assert.deepEqual(Object.keys(JSON.parse(cmdLine)), [
    "command_id",
    "run_id",
    "type",
    "payload",
    "ts",
    "client_id",
    "seq",
  ]);
  await stores.commands.complete({
    command_id: "c1",
    seq: 1,
    run_id: "u1",
    type: "pause",
    status: "applied",
    error: null,
    applied_at: iso(1),
  });
  const cursorText = await Deno.readTextFile(join(dir, "commands_cursor.json"));
  const cursor = JSON.parse(cursorText);
  assert.deepEqual(Object.keys(cursor), ["cursor", "updated_at"]);
  assert.equal(cursor.cursor, 1);
  assert.match(cursor.updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
  assert.equal(cursorText, JSON.stringify(cursor, null, 2));
  const tmp = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".tmp"));
  assert.deepEqual(tmp, [], "no temp files left behind");
});

test("a torn last line is invisible, then truncated by the next append", async ({ ledger }, dir) => {
  const path = join(dir, "ledger_t1.jsonl");
  const torn = line(makeRecord("t1", 1)).slice(0, 40);
  await Deno.writeTextFile(path, line(makeRecord("t1", 0)) + torn);
  assert.equal(await ledger.count("t1"), 1);
  assert.deepEqual((await ledger.read("t1", 0, 10)).items, [makeRecord("t1", 0)]);
  assert.equal(await ledger.append("t1", [makeRecord("t1", 2)]), 2);
  assert.equal(await Deno.readTextFile(path), line(makeRecord("t1", 0)) + line(makeRecord("t1", 2)));
});

test("an unterminated but complete last record is kept and terminated", async ({ ledger }, dir) => {
  const path = join(dir, "ledger_t2.jsonl");
  await Deno.writeTextFile(path, line(makeRecord("t2", 0)) + JSON.stringify(makeRecord("t2", 1)));
  assert.equal(await ledger.count("t2"), 1, "not visible before it ends with a newline");
  assert.equal(await ledger.append("t2", [makeRecord("t2", 2)]), 3);
  assert.deepEqual((await ledger.read("t2", 0, 10)).items.map((r) => r.step_id), [
    "step-0",
    "step-1",
    "step-2",
  ]);
});

test("blank lines, concatenated objects and a torn write followed by a record", async ({ ledger }, dir) => {
  const [r0, r1, r2, r3, r4] = [0, 1, 2, 3, 4].map((i) => JSON.stringify(makeRecord("q", i)));
  const content = `${r0}\n\n   \n${r1}${r2}\n${r3.slice(0, 30)}${r4}\nnot json at all\n`;
  await Deno.writeTextFile(join(dir, "ledger_q.jsonl"), content);
  const { items } = await ledger.read("q", 0, 10);
  assert.deepEqual(items.map((r) => r.step_id), ["step-0", "step-1", "step-2", "step-4"]);
  assert.equal(await ledger.count("q"), 4);
  assert.deepEqual((await ledger.read("q", 2, 1)).items.map((r) => r.step_id), ["step-2"]);
});

test("another process's appends are seen through the offset cache", async ({ ledger }, dir) => {
  await ledger.append("o", [makeRecord("o", 0)]);
  assert.equal(await ledger.count("o"), 1);
  await Deno.writeTextFile(join(dir, "ledger_o.jsonl"), line(makeRecord("o", 1)), { append: true });
  assert.deepEqual((await ledger.read("o", 1, 5)).items.map((r) => r.step_id), ["step-1"]);
  // replaced by a different file of the same size: the cache notices
  await Deno.remove(join(dir, "ledger_o.jsonl"));
  await Deno.writeTextFile(join(dir, "ledger_o.jsonl"), line(makeRecord("o", 7)) + line(makeRecord("o", 8)));
  assert.deepEqual((await ledger.read("o", 0, 5)).items.map((r) => r.step_id), ["step-7", "step-8"]);
});

test("a corrupt run file names the file; the other runs still list", async ({ runs }, dir) => {
  await runs.save(makeRun("good"));
  const bad = join(dir, "run_bad.json");
  await Deno.writeTextFile(bad, '{"run_id": "bad", "status": ');
  await assert.rejects(runs.load("bad"), (err: unknown) => {
    assert.ok(err instanceof StoreCorruptError);
    assert.equal(err.location, bad);
    assert.ok(err.message.includes(bad));
    return true;
  });
  const page = await runs.list();
  assert.deepEqual(page.items.map((r) => r.run_id), ["good"]);
  assert.equal(page.errors?.length, 1);
  assert.equal(page.errors?.[0].location, bad);
  assert.deepEqual(await runs.listChildren("nobody"), []);
  await Deno.writeTextFile(join(dir, "run_other.json"), JSON.stringify(makeRun("not-other")));
  assert.equal(
    (await runs.list()).errors?.length,
    2,
    "a run_id that does not match its file name is reported",
  );
});

test("run list sees another process's rewrite of a cached run", async ({ runs }, dir) => {
  await runs.save(makeRun("m", { status: "running" }));
  const old = new Date(Date.now() - 10_000);
  await Deno.utime(join(dir, "run_m.json"), old, old); // old enough to be cached by the scan
  assert.equal((await runs.list({ status: "running" })).items.length, 1);
  // same size, written behind the store's back (as another process would)
  await Deno.writeTextFile(
    join(dir, "run_m.json"),
    JSON.stringify(makeRun("m", { status: "waiting" }), null, 2),
  );
  assert.deepEqual((await runs.list({ status: "waiting" })).items.map((r) => r.run_id), ["m"]);
  assert.equal((await runs.list({ status: "running" })).items.length, 0);
});

test(
  "a crash between the outcome line and the cursor file is still consistent",
  async ({ commands }, dir) => {
    await commands.append(makeCommand("c1"));
    await commands.append(makeCommand("c2"));
    // outcome written, cursor file not (the crash window)
    await Deno.writeTextFile(
      join(dir, "command_outcomes.jsonl"),
      line({
        command_id: "c2",
        seq: 2,
        run_id: "run-1",
        type: "pause",
        status: "applied",
        error: null,
        applied_at: iso(1),
        consumer: "gateway_runner",
      }),
    );
    assert.equal(await commands.loadCursor(), 2);
    assert.equal((await commands.getOutcome("c2"))?.status, "applied");
    await Deno.writeTextFile(join(dir, "commands_cursor.json"), "{corrupt");
    assert.equal(await commands.loadCursor(), 2, "a corrupt cursor file counts as 0");
  },
);

test("upstream inbox quirks: duplicate ids and non-positive seqs", async ({ commands }, dir) => {
  const rows = [
    { ...makeCommand("a"), seq: 1 },
    { ...makeCommand("zero"), seq: 0 },
    { ...makeCommand("a", "again"), seq: 2 },
    { ...makeCommand("b"), seq: 3 },
  ];
  await Deno.writeTextFile(join(dir, "commands.jsonl"), rows.map(line).join(""));
  assert.deepEqual((await commands.listAfter(0, 10)).map((c) => c.command_id), ["a", "b"]);
  assert.equal((await commands.get("a"))?.run_id, "run-1", "first occurrence wins");
  assert.equal(await commands.get("zero"), null);
  assert.deepEqual(await commands.append(makeCommand("c")), { accepted: true, duplicate: false, seq: 4 });
});

/** A data dir another writer of the layout produced opens as is: every run, record and child is found. */
async function opensAsIs(folders: string[]): Promise<void> {
  await withTempDir("gw-layout-", async (dir) => {
    const { runIds, ledgerLines } = await copySamples(folders, dir);
    assert.ok(runIds.length >= 3);
    const stores = await openFile(dir);
    try {
      const page = await stores.runs.list({ limit: 1000 });
      assert.equal(page.errors, undefined);
      assert.deepEqual(page.items.map((r) => r.run_id).sort(), runIds.sort());
      for (const [id, n] of ledgerLines) {
        const { items } = await stores.ledger.read(id, 0, 1000);
        for (const r of items) assert.equal(r.run_id, id);
        assert.equal(items.length, n, id);
      }
      const children = page.items.filter((r) => r.parent_run_id);
      assert.ok(children.length > 0);
      for (const child of children) {
        assert.ok(
          (await stores.runs.listChildren(child.parent_run_id!)).some((r) => r.run_id === child.run_id),
        );
      }
    } finally {
      await stores.close();
    }
  });
}

Deno.test("file layout: a data dir our runtime wrote opens as is", () => ownSamples(opensAsIs));

compatTest("file layout: an upstream data dir opens as is", () => upstreamSamples(opensAsIs));

test(
  "an unchanged directory reuses the last scan, yet renames are seen at once and in-place edits within 5 s",
  async (stores, dir) => {
    for (const id of ["s1", "s2"]) await stores.runs.save(makeRun(id, { status: "running" }));
    await new Promise((r) => setTimeout(r, 80)); // past the coarse-clock window, so the scan is reusable
    assert.equal((await stores.runs.list({ status: "running" })).items.length, 2);

    // Another writer replacing a file by rename (as every writer of this layout does) changes the directory.
    const s3 = join(dir, "run_s3.json");
    await Deno.writeTextFile(`${s3}.x.tmp`, JSON.stringify(makeRun("s3", { status: "running" }), null, 2));
    await Deno.rename(`${s3}.x.tmp`, s3);
    assert.equal((await stores.runs.list({ status: "running" })).items.length, 3, "a rename is seen at once");

    // An in-place edit does not touch the directory: it is caught by the periodic full re-validation.
    await new Promise((r) => setTimeout(r, 80));
    await stores.runs.list();
    await Deno.writeTextFile(
      join(dir, "run_s1.json"),
      JSON.stringify(makeRun("s1", { status: "completed" }), null, 2),
    );
    await eventually(async () => (await stores.runs.list({ status: "running" })).items.length === 2, 6_000);
  },
);
