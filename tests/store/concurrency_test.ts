/** Two real processes writing to one data dir at once, and kill -9 in the middle of appends. */
import assert from "node:assert/strict";
import { openStores } from "../../src/store/open.ts";
import type { StoreBackend, Stores } from "../../src/store/types.ts";
import { eventually, makeCommand, makeRecord, withTempDir } from "./fixtures.ts";
import { acks, drain, spawnWorker } from "./spawn.ts";

const WORKER = "./workers/append_worker.ts";
const N = 150;

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir("gw-conc-", fn);

async function withOpen<T>(backend: StoreBackend, dir: string, fn: (s: Stores) => Promise<T>): Promise<T> {
  const stores = await openStores({ backend, dataDir: dir });
  try {
    return await fn(stores);
  } finally {
    await stores.close();
  }
}

async function runPair(backend: StoreBackend, dir: string, mode: string): Promise<number[][]> {
  const workers = ["a", "b"].map((tag) => spawnWorker(WORKER, [backend, dir, mode, tag, String(N)]));
  const outputs = await Promise.all(workers.map(drain));
  const statuses = await Promise.all(workers.map((w) => w.child.status));
  statuses.forEach((s) => assert.equal(s.code, 0));
  outputs.forEach((lines) => assert.equal(lines.at(-1), "done"));
  return outputs.map((lines) => acks(lines).map((a) => a.value));
}

for (const backend of ["file", "sqlite"] as const) {
  Deno.test(`${backend}: two processes appending to one ledger lose and duplicate nothing`, () =>
    withDir(async (dir) => {
      const [a, b] = await runPair(backend, dir, "ledger");
      const lengths = [...a, ...b];
      assert.equal(new Set(lengths).size, 2 * N, "every append got its own resulting length");
      await withOpen(backend, dir, async ({ ledger }) => {
        const per = (N / 2) * 1 + (N / 2) * 3;
        assert.equal(await ledger.count("shared"), 2 * per);
        const { items } = await ledger.read("shared", 0, 10_000);
        const ids = items.map((r) => r.step_id);
        assert.equal(new Set(ids).size, ids.length, "no duplicates");
        for (const tag of ["a", "b"]) {
          const mine = ids.filter((id) => id.startsWith(`${tag}-`)).map((id) => Number(id.slice(2)));
          assert.equal(mine.length, per);
          assert.deepEqual(mine, [...mine].sort((x, y) => x - y), `${tag}: in append order`);
        }
        for (let k = 0; k < ids.length; k++) {
          // a batch [i, i+0.25, i+0.5] is never split by the other writer
          if (ids[k].endsWith(".25")) assert.equal(ids[k + 1], ids[k].replace(".25", ".5"));
        }
        // the length each append returned is the position right after its last record
        for (const [tag, values] of [["a", a], ["b", b]] as const) {
          values.forEach((len, i) => assert.equal(ids[len - 1], `${tag}-${i % 2 === 0 ? i : i + 0.5}`));
        }
      });
    }));

  Deno.test(`${backend}: two processes appending commands never share a seq`, () =>
    withDir(async (dir) => {
      const [a, b] = await runPair(backend, dir, "commands");
      assert.deepEqual([...a, ...b].sort((x, y) => x - y), Array.from({ length: 2 * N }, (_, i) => i + 1));
      await withOpen(backend, dir, async ({ commands }) => {
        const all = await commands.listAfter(0, 10_000);
        assert.equal(all.length, 2 * N);
        assert.deepEqual(all.map((c) => c.seq), Array.from({ length: 2 * N }, (_, i) => i + 1));
        for (const c of all) {
          assert.equal(c.seq, (c.command_id.startsWith("a-") ? a : b)[Number(c.command_id.slice(2))]);
        }
      });
    }));

  Deno.test(`${backend}: another process's appends wake this process's subscribers`, () =>
    withDir((dir) =>
      withOpen(backend, dir, async ({ wake, ledger, commands }) => {
        const woken = new Set<string>();
        const offs = ["ledger:shared", "commands"].map((topic) => wake.subscribe(topic, (t) => woken.add(t)));
        try {
          for (const mode of ["ledger", "commands"]) {
            const worker = spawnWorker(WORKER, [backend, dir, mode, "w", "3"]);
            await drain(worker);
            assert.equal((await worker.child.status).code, 0);
          }
          await eventually(() => woken.has("ledger:shared") && woken.has("commands"));
          assert.equal(await ledger.count("shared"), 5);
          assert.equal(await commands.lastSeq(), 3);
        } finally {
          offs.forEach((off) => off());
        }
      })
    ));

  for (const mode of ["ledger", "commands"] as const) {
    Deno.test(`${backend}: kill -9 during ${mode} appends keeps every acknowledged record`, () =>
      withDir(async (dir) => {
        const worker = spawnWorker(WORKER, [backend, dir, mode, "k", "-1"]);
        const seen: string[] = [];
        while (acks(seen).length < 60) {
          const r = await worker.lines.next();
          assert.ok(!r.done, "worker exited early");
          seen.push(r.value);
        }
        worker.child.kill("SIGKILL");
        seen.push(...await drain(worker));
        const status = await worker.child.status;
        assert.equal(status.signal, "SIGKILL");
        const acked = acks(seen);
        await withOpen(backend, dir, async ({ ledger, commands }) => {
          if (mode === "ledger") {
            const { items } = await ledger.read("shared", 0, 100_000);
            const ids = items.map((r) => r.step_id);
            const last = acked.at(-1)!;
            assert.ok(items.length >= last.value, `${items.length} records, ${last.value} acknowledged`);
            for (const { i, value } of acked) {
              assert.equal(ids[value - 1], `k-${i % 2 === 0 ? i : i + 0.5}`);
            }
            const before = items.length;
            assert.equal(await ledger.append("shared", [makeRecord("shared", 1)]), before + 1, "appendable");
            assert.equal((await ledger.read("shared", before, 1)).items[0].step_id, "step-1");
          } else {
            for (const { i, value } of acked) assert.equal((await commands.get(`k-${i}`))?.seq, value);
            const last = await commands.lastSeq();
            assert.ok(last >= acked.at(-1)!.value);
            assert.equal((await commands.append(makeCommand("after-crash"))).seq, last + 1, "appendable");
          }
        });
      }));
  }
}
