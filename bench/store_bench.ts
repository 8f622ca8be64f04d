/**
 * Store benchmark: ledger appends/s (single and 100 per append), replay pages/s (limit 200),
 * command appends/s and run queries/s among 3,000 runs, for the file and SQLite backends, on real durable writes (fsync / COMMIT).
 * Each figure runs for about a second; the whole bench stays well under 30 s.
 */
import { openStores } from "../src/store/open.ts";
import type { RunState, StepRecord } from "../src/runtime/types.ts";
import type { StoreBackend, Stores } from "../src/store/types.ts";

const SLICE_MS = 1000;
const PAGE = 200;
const BATCH = 100;
const RUNS = 3000;

function record(runId: string, i: number): StepRecord {
  return {
    run_id: runId,
    step_id: crypto.randomUUID(),
    node_id: `node-${i % 9}`,
    status: "completed",
    effect: { type: "llm_call", payload: { prompt: "x".repeat(300) }, result_key: "_temp.r" },
    result: { content: "y".repeat(400), usage: { total_tokens: 19 } },
    error: null,
    started_at: "2026-01-01T00:00:00.000000+00:00",
    ended_at: "2026-01-01T00:00:01.000000+00:00",
    actor_id: "gateway",
    session_id: "s",
    attempt: 1,
    idempotency_key: null,
    prev_hash: null,
    record_hash: null,
    signature: null,
  };
}

/** Repeats `op` for about SLICE_MS; returns units per second (op returns the units it did). */
async function rate(op: (i: number) => Promise<number>): Promise<number> {
  const start = performance.now();
  let units = 0;
  let i = 0;
  while (performance.now() - start < SLICE_MS) units += await op(i++);
  return units / ((performance.now() - start) / 1000);
}

interface Row {
  backend: StoreBackend;
  operation: string;
  perSecond: number;
}

async function benchBackend(backend: StoreBackend, dir: string): Promise<Row[]> {
  const stores: Stores = await openStores({ backend, dataDir: dir });
  try {
    const rows: Row[] = [];
    const add = (operation: string, perSecond: number) => rows.push({ backend, operation, perSecond });
    add(
      "ledger append, 1 record (records/s)",
      await rate(async (i) => {
        await stores.ledger.append("single", [record("single", i)]);
        return 1;
      }),
    );
    add(
      `ledger append, ${BATCH} per call (records/s)`,
      await rate(async (i) => {
        await stores.ledger.append(
          "batched",
          Array.from({ length: BATCH }, (_, k) => record("batched", i * BATCH + k)),
        );
        return BATCH;
      }),
    );
    const total = await stores.ledger.count("batched");
    add(
      `ledger replay, limit ${PAGE} (pages/s)`,
      await rate(async (i) => {
        const after = (i * PAGE) % Math.max(1, total - PAGE);
        const page = await stores.ledger.read("batched", after, PAGE);
        if (page.items.length === 0) throw new Error("empty replay page");
        return 1;
      }),
    );
    add(
      "command append (commands/s)",
      await rate(async (i) => {
        await stores.commands.append({
          command_id: `cmd-${i}`,
          run_id: "single",
          type: "emit_event",
          payload: { name: "tick", i },
          ts: "2026-01-01T00:00:00.000000+00:00",
          client_id: "bench",
        });
        return 1;
      }),
    );
    // The runner asks for running and due runs several times a second: that query among many
    // finished runs is what an idle gateway spends its time on.
    for (let i = 0; i < RUNS; i++) {
      await stores.runs.save(makeRun(`run-${i}`, i % 100 === 0 ? "running" : "completed"));
    }
    add(
      `run list status=running among ${RUNS} runs (queries/s)`,
      await rate(async () => {
        if ((await stores.runs.list({ status: "running" })).items.length !== RUNS / 100) {
          throw new Error("wrong run count");
        }
        return 1;
      }),
    );
    return rows;
  } finally {
    await stores.close();
  }
}

function makeRun(runId: string, status: RunState["status"]): RunState {
  const at = "2026-01-01T00:00:00.000000+00:00";
  return {
    run_id: runId,
    workflow_id: "bench@1.0.0:flow",
    status,
    current_node: "end",
    vars: { prompt: "x".repeat(200) },
    waiting: null,
    output: null,
    error: null,
    created_at: at,
    updated_at: at,
    actor_id: "gateway",
    session_id: runId,
    parent_run_id: null,
  };
}

export async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const backend of ["file", "sqlite"] as const) {
    const dir = await Deno.makeTempDir({ prefix: `gw-bench-${backend}-` });
    try {
      rows.push(...await benchBackend(backend, dir));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  const cells = rows.map((r) => [r.backend, r.operation, Math.round(r.perSecond).toLocaleString("en-US")]);
  const header = ["backend", "operation", "ops/s"];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    c.map((v, i) => (i === 2 ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join("  ");
  console.log(line(header));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const c of cells) console.log(line(c));
}

if (import.meta.main) await main();
