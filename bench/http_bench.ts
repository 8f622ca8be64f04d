/**
 * HTTP API benchmark on loopback: runs started/s, commands/s, ledger replay records/s, and SSE
 * append→receive latency (p50/p99) with 1, 100 and 1000 concurrent streams.
 *
 *   deno run -A bench/http_bench.ts [--store file|sqlite]
 *
 * The gateway runs in this process (security middlewares on, runner off so the API is measured
 * alone); clients are fetch calls over 127.0.0.1. Ledger appends for the SSE figures go through the
 * store, as the runtime's would. Total runtime stays well under a minute.
 */
import { parseArgs } from "node:util";
import type { Gateway } from "../src/gateway.ts";
import { AUTH, openBenchServer, percentile, post } from "./bench_server.ts";
import { syntheticRecord } from "../tests/helpers/step_records.ts";

interface Row {
  measure: string;
  value: string;
  detail: string;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await fn();
  return [out, (performance.now() - t0) / 1000];
}

/** Runs `worker` on `concurrency` lanes for `seconds`; resolves with the number of completed calls. */
export async function saturate(concurrency: number, seconds: number, worker: (i: number) => Promise<void>) {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      await worker(done++);
    }
  }));
  return done;
}

const record = (runId: string, i: number, sentAt: number) =>
  syntheticRecord(runId, i, "bench", { i, sent_at: sentAt, text: "x".repeat(200) });

/** Opens `streams` SSE connections over `runs`, appends `rounds` records, measures append→receive. */
export async function sseLatency(gw: Gateway, base: string, runs: string[], streams: number, rounds: number) {
  const latencies: number[] = [];
  const readers: ReadableStreamDefaultReader<string>[] = [];
  const counts = new Map<string, number>();
  const ready: Promise<void>[] = [];
  for (let i = 0; i < streams; i++) {
    const runId = runs[i % runs.length];
    counts.set(runId, (counts.get(runId) ?? 0) + 1);
    const after = await gw.stores.ledger.count(runId);
    const res = await fetch(`${base}/api/gateway/runs/${runId}/ledger/stream?after=${after}&heartbeat_s=30`, {
      headers: AUTH,
    });
    if (res.status !== 200) throw new Error(`stream ${i}: ${res.status} ${await res.text()}`);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    readers.push(reader);
    const opened = Promise.withResolvers<void>();
    ready.push(opened.promise);
    (async () => {
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        buf += value;
        if (buf.startsWith("retry:")) opened.resolve();
        let end;
        while ((end = buf.indexOf("\n\n")) >= 0) {
          const frame = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const data = frame.split("\n").find((l) => l.startsWith("data: "));
          if (frame.includes("event: step") && data) {
            const sentAt = JSON.parse(data.slice(6)).record.result.sent_at;
            latencies.push(performance.now() - sentAt);
          }
        }
      }
    })();
  }
  await Promise.all(ready);
  const expected = Math.floor(rounds * streams / runs.length);
  for (let r = 0; r < rounds; r++) {
    const runId = runs[r % runs.length];
    await gw.stores.ledger.append(runId, [record(runId, r, performance.now())]);
    await new Promise((res) => setTimeout(res, streams >= 1000 ? 20 : 5));
  }
  const deadline = performance.now() + 10_000;
  while (latencies.length < expected && performance.now() < deadline) {
    await new Promise((res) => setTimeout(res, 10));
  }
  for (const reader of readers) await reader.cancel().catch(() => {});
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), n: latencies.length };
}

export async function main(args: string[] = Deno.args): Promise<Row[]> {
  const { values } = parseArgs({ args, options: { store: { type: "string", default: "file" } } });
  const { gw, base, close } = await openBenchServer(values.store, false, "bench-http-");
  const rows: Row[] = [];
  try {
    const runIds: string[] = [];
    const [starts, startS] = await timed(() =>
      saturate(16, 3, async () => {
        runIds.push(String((await post(base, "/api/gateway/runs/start", { bundle_id: "demo" })).run_id));
      })
    );
    rows.push({
      measure: "runs started/s",
      value: (starts / startS).toFixed(0),
      detail: `${starts} starts, 16 clients`,
    });

    const [cmds, cmdS] = await timed(() =>
      saturate(16, 3, async (i) => {
        await post(base, "/api/gateway/commands", {
          command_id: `bench-${i}-${crypto.randomUUID()}`,
          run_id: runIds[i % runIds.length],
          type: "pause",
          payload: { reason: "bench" },
        });
      })
    );
    rows.push({
      measure: "commands/s",
      value: (cmds / cmdS).toFixed(0),
      detail: `${cmds} commands, 16 clients`,
    });

    const replayRun = runIds[0];
    const total = 20_000;
    for (let i = 0; i < total; i += 1000) {
      await gw.stores.ledger.append(
        replayRun,
        Array.from({ length: 1000 }, (_, j) => record(replayRun, i + j, 0)),
      );
    }
    const [replayed, replayS] = await timed(async () => {
      let after = 0, n = 0;
      for (;;) {
        const res = await fetch(`${base}/api/gateway/runs/${replayRun}/ledger?after=${after}&limit=2000`, {
          headers: AUTH,
        });
        const page = await res.json();
        n += page.items.length;
        if (page.items.length === 0) return n;
        after = page.next_after;
      }
    });
    rows.push({
      measure: "ledger replay records/s",
      value: (replayed / replayS).toFixed(0),
      detail: `${replayed} records, pages of 2000`,
    });

    for (const streams of [1, 100, 1000]) {
      const runs = runIds.slice(1, 1 + Math.min(100, streams));
      const { p50, p99, n } = await sseLatency(gw, base, runs, streams, streams >= 1000 ? 30 : 60);
      rows.push({
        measure: `SSE append→receive, ${streams} stream${streams > 1 ? "s" : ""}`,
        value: `p50 ${p50.toFixed(2)} ms / p99 ${p99.toFixed(2)} ms`,
        detail: `${n} deliveries over ${runs.length} run${runs.length > 1 ? "s" : ""}`,
      });
    }
  } finally {
    await close();
  }
  const w = [
    Math.max(...rows.map((r) => r.measure.length)),
    Math.max(...rows.map((r) => r.value.length)),
  ];
  console.log(`HTTP API benchmark (store: ${values.store}, loopback, in-process server)`);
  for (const r of rows) console.log(`${r.measure.padEnd(w[0])}  ${r.value.padStart(w[1])}  ${r.detail}`);
  return rows;
}

if (import.meta.main) await main();
