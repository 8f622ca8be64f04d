/**
 * Cost of the connection front (src/net): the same gateway handler served by `Deno.serve`
 * directly and through the front, measured interleaved (direct, front, direct, front, …) so a shared,
 * noisy machine biases neither side. Figures: `/api/health` requests/s over 16 kept-alive clients, and
 * SSE append→receive latency over 100 streams. (The front relays with plain read/write loops: relaying
 * with `readable.pipeTo(writable)` measured 2-3× slower on a trivial handler.)
 *
 *   deno run -A bench/conn_front_bench.ts [--rounds 3]
 */
import { parseArgs } from "node:util";
import { serveGuarded } from "../src/net/front.ts";
import { AUTH, openBenchServer, percentile, post } from "./bench_server.ts";
import { saturate, sseLatency } from "./http_bench.ts";

const HEALTH_S = 2;

export async function main(args: string[] = Deno.args): Promise<void> {
  const { values } = parseArgs({ args, options: { rounds: { type: "string", default: "3" } } });
  const bench = await openBenchServer("file", false, "bench-front-");
  const front = await serveGuarded({ hostname: "127.0.0.1", port: 0 }, bench.handler, {
    headerMs: 10_000,
    idleMs: 120_000,
    maxConnections: 0,
    maxPerIp: 0,
  });
  const bases = { direct: bench.base, front: `http://127.0.0.1:${front.addr.port}` };
  const results: Record<string, { rps: number[]; p50: number[]; p99: number[] }> = {
    direct: { rps: [], p50: [], p99: [] },
    front: { rps: [], p50: [], p99: [] },
  };
  try {
    const runs: string[] = [];
    for (let i = 0; i < 20; i++) {
      runs.push(String((await post(bench.base, "/api/gateway/runs/start", { bundle_id: "demo" })).run_id));
    }
    for (let r = 0; r < Number(values.rounds); r++) {
      for (const side of ["direct", "front"] as const) {
        const base = bases[side];
        const n = await saturate(16, HEALTH_S, async () => {
          await (await fetch(`${base}/api/health`, { headers: AUTH })).arrayBuffer();
        });
        results[side].rps.push(n / HEALTH_S);
        const sse = await sseLatency(bench.gw, base, runs, 100, 40);
        results[side].p50.push(sse.p50);
        results[side].p99.push(sse.p99);
      }
    }
  } finally {
    await front.shutdown();
    await bench.close();
  }
  const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
  console.log(`Connection front cost (${values.rounds} interleaved rounds, loopback, in-process clients)`);
  // Each round's sides ran back to back, so their ratio cancels most of the machine's drift.
  const ratios = results.front.rps.map((f, i) => f / results.direct.rps[i]);
  console.log(`front/direct health req/s per round: ${ratios.map((x) => x.toFixed(2)).join(", ")}`);
  for (const [side, r] of Object.entries(results)) {
    console.log(
      `${side.padEnd(6)}  health ${median(r.rps).toFixed(0).padStart(6)} req/s  ` +
        `SSE p50 ${median(r.p50).toFixed(2)} ms  p99 ${median(r.p99).toFixed(2)} ms  ` +
        `(rounds: ${r.rps.map((x) => x.toFixed(0)).join(", ")} req/s)`,
    );
  }
}

if (import.meta.main) await main();
