/**
 * The per-request HTTP path (issue 16): ledger replay (a 20,000-record ledger read in pages of 2,000)
 * and, at 16 clients, requests/s and the server's CPU per request for `GET /api/health` (no security
 * stage), an authenticated `GET /api/gateway/runs?limit=1` and a durable `emit_event` command append. The server is a real `serve --no-runner` in its own process
 * (bench/serve_process.ts), so the CPU figures are the server's alone (from /proc; 0 elsewhere).
 *
 *   deno run -A bench/request_path_bench.ts [--store file,sqlite] [--seconds 4] [--rounds 1] [--baseline <tree>]
 *
 * `--baseline <tree>` (e.g. `git archive main | tar -x -C /tmp/base`) measures that tree too, rounds
 * interleaved so a noisy machine biases neither side (bench/compare.ts).
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { syntheticRecord } from "../tests/helpers/step_records.ts";
import { AUTH, JSON_HEADERS, post } from "./bench_server.ts";
import { saturate } from "./http_bench.ts";
import { COMPARE_OPTIONS, compareTrees, type Comparison, type Tree } from "./compare.ts";
import { benchHome, openTreeStores, startBenchServe } from "./serve_process.ts";

const CLIENTS = 16;

const emit = (i: number) =>
  JSON.stringify({
    command_id: `bench-${i}-${crypto.randomUUID()}`,
    run_id: "bench-session",
    type: "emit_event",
    payload: { name: "bench", scope: "session" },
  });

/** Records in the replayed ledger, and per page. */
const REPLAYED = 20_000;
const PAGE = 2_000;

/**
 * A run (started over HTTP, so it is the tree's own) whose ledger gets REPLAYED records through the
 * tree's store code while no server runs (appending over HTTP is not part of the API).
 */
async function seedLedger(tree: Tree, store: string, home: string): Promise<string> {
  const server = await startBenchServe(home, store, tree.path, ["--no-runner"]);
  const runId = String((await post(server.url, "/api/gateway/runs/start", { bundle_id: "demo" })).run_id);
  await server.stop();
  const stores = await openTreeStores(tree.path, store, join(home, "data"));
  try {
    for (let i = 0; i < REPLAYED; i += 1000) {
      const records = Array.from(
        { length: 1000 },
        (_, j) => syntheticRecord(runId, i + j, "n", { i: i + j }),
      );
      await stores.ledger.append(runId, records);
    }
  } finally {
    await stores.close();
  }
  return runId;
}

/** Reads the whole ledger of `runId` in pages of PAGE, as a client replaying from cursor 0 does. */
async function replay(base: string, runId: string): Promise<void> {
  for (let after = 0;;) {
    const res = await fetch(`${base}/api/gateway/runs/${runId}/ledger?after=${after}&limit=${PAGE}`, {
      headers: AUTH,
    });
    const page = await res.json();
    if (!res.ok) throw new Error(`ledger page: ${res.status}`);
    if (page.items.length === 0) return;
    after = page.next_after;
  }
}

async function measure(tree: Tree, store: string, seconds: number, add: Comparison["add"]): Promise<void> {
  const home = await benchHome("gw-request-bench-");
  const runId = await seedLedger(tree, store, home);
  const server = await startBenchServe(home, store, tree.path, ["--no-runner"]);
  const base = server.url;
  const cases: [string, string, (i: number) => Promise<Response>][] = [
    ["health", "-", () => fetch(`${base}/api/health`)],
    ["authenticated GET", "-", () => fetch(`${base}/api/gateway/runs?limit=1`, { headers: AUTH })],
    [
      "command append",
      "≥ 5000 req/s",
      (i) => fetch(`${base}/api/gateway/commands`, { method: "POST", headers: JSON_HEADERS, body: emit(i) }),
    ],
  ];
  try {
    await replay(base, runId); // warm-up
    const cpu0 = server.cpuMs();
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) await replay(base, runId);
    const records = 3 * REPLAYED;
    add(tree, {
      measure: `ledger replay, records/s (pages of ${PAGE}, 1 client)`,
      value: records / ((performance.now() - t0) / 1000),
      unit: "",
      target: "no regression",
    });
    add(tree, {
      measure: "ledger replay, server CPU per 1,000 records",
      value: (server.cpuMs() - cpu0) * 1000 / records,
      unit: "ms",
      target: "-",
      digits: 2,
    });
    for (const [name, target, call] of cases) {
      const once = async (i: number) => {
        const res = await call(i);
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${name}: ${res.status}`);
      };
      await saturate(CLIENTS, 1, once); // warm-up
      const cpu0 = server.cpuMs();
      const t0 = performance.now();
      const n = await saturate(CLIENTS, seconds, once);
      add(tree, {
        measure: `${name}, req/s at ${CLIENTS} clients`,
        value: n / ((performance.now() - t0) / 1000),
        unit: "",
        target,
      });
      add(tree, {
        measure: `${name}, server CPU per request`,
        value: (server.cpuMs() - cpu0) * 1000 / n,
        unit: "µs",
        target: "-",
      });
    }
  } finally {
    await server.stop();
    await Deno.remove(home, { recursive: true });
  }
}

export async function main(args: string[] = Deno.args): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { ...COMPARE_OPTIONS, seconds: { type: "string", default: "4" } },
  });
  await compareTrees(
    values,
    (store) => `Request path (store: ${store}, serve --no-runner in its own process)`,
    (tree, store, add) => measure(tree, store, Number(values.seconds), add),
  );
}

if (import.meta.main) await main();
