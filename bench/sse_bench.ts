/**
 * SSE fan-out benchmark (issue 16): append→client latency p50/p99 with 100 and 1,000 streams (on one
 * run and spread over 100 runs), time to connect 1,000 streams, and health latency while they are
 * open, each beside its target. The server runs in its own process (bench/sse_server.ts); this
 * process is only the load generator. Appends go through the server's store (its control port);
 * latency is from just before the append request to the frame's arrival here (one clock: both
 * processes read the same system time).
 *
 *   deno run -A bench/sse_bench.ts [--store file,sqlite] [--rounds 1] [--baseline <tree>] [--cpu-prof <dir>]
 *     [--only "1,000 streams, 1 run"]   (scenarios whose name contains this)
 *     [--direct]   (streams to the internal Deno.serve, skipping the connection front `serve` puts before it)
 *
 * `--baseline <tree>` also measures another source tree (e.g. `git archive main | tar -x -C /tmp/base`),
 * interleaved with this one round by round, so both see the same machine load.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { AUTH, percentile, post } from "./bench_server.ts";
import { syntheticRecord } from "../tests/helpers/step_records.ts";
import { benchTrees } from "./compare.ts";
import { cpuMsOf } from "./serve_process.ts";
import { mainThreadCpuS } from "./proc_cpu.ts";

interface Server {
  base: string;
  control: string;
  child: Deno.ChildProcess;
}

/** The server's user+system CPU so far (ms), from /proc: independent of how busy the machine is. */
const cpuMs = (server: Server) => cpuMsOf(server.child.pid);
/** The same for the server's main thread alone (see `mainThreadCpuS`). */
const mainCpuMs = (server: Server) => mainThreadCpuS(server.child.pid) * 1000;

interface Row {
  tree: string;
  store: string;
  measure: string;
  value: string;
  target: string;
}

const now = () => performance.timeOrigin + performance.now();
const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SENT_AT = /"sent_at": ([0-9.e+]+)/g;

async function startServer(src: string, store: string, cpuProf?: string, direct = false): Promise<Server> {
  const args = ["run", "-A", ...(cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${cpuProf}`] : [])];
  args.push(join(import.meta.dirname!, "sse_server.ts"), "--store", store, "--src", src);
  if (direct) args.push("--direct");
  const child = new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "inherit" }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("bench server exited before listening");
    line += value;
  }
  reader.releaseLock();
  void child.stdout.cancel().catch(() => {});
  const { base, control } = JSON.parse(line);
  return { base, control, child };
}

async function stopServer(server: Server): Promise<void> {
  server.child.kill("SIGTERM");
  await server.child.status;
}

const stepRecord = (runId: string, i: number, sentAt: number) =>
  syntheticRecord(runId, i, "bench", { i, sent_at: sentAt, text: "x".repeat(200) });

async function startRuns(base: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (ids.length < n) {
      ids.push(String((await post(base, "/api/gateway/runs/start", { bundle_id: "demo" })).run_id));
    }
  }));
  return ids.slice(0, n);
}

interface Scenario {
  streams: number;
  runs: string[];
  appends: number;
  gapMs: number;
}

/** Opens every stream at once, then appends; returns connect time, latencies and health timings. */
async function measure(server: Server, s: Scenario) {
  const lengths = new Map<string, number>();
  for (const run of s.runs) {
    lengths.set(run, (await (await fetch(`${server.control}/count?run=${run}`)).json()).length);
  }
  const latencies: number[] = [];
  const conns: Deno.TcpConn[] = [];
  const { hostname, port } = new URL(server.base);
  const cpu0 = await cpuMs(server);
  const main0 = mainCpuMs(server);
  const t0 = performance.now();
  let failed = 0;
  // Raw HTTP/1.1 over TCP, not fetch: the generator must cost far less per frame than the server,
  // or its own work would be what is measured.
  await Promise.all(Array.from({ length: s.streams }, async (_, i) => {
    const run = s.runs[i % s.runs.length];
    const conn = await Deno.connect({ hostname, port: Number(port) });
    conns.push(conn);
    await conn.write(encoder.encode(
      `GET /api/gateway/runs/${run}/ledger/stream?after=${lengths.get(run)}&heartbeat_s=30 HTTP/1.1\r\n` +
        `Host: ${hostname}\r\nAuthorization: ${AUTH.Authorization}\r\n\r\n`,
    ));
    const buf = new Uint8Array(64 * 1024);
    const decoder = new TextDecoder();
    let head = "";
    // Open once the `retry:` frame has arrived; step frames are measured from there on.
    while (!head.includes("retry:")) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null || (head += decoder.decode(buf.subarray(0, n))).startsWith("HTTP/1.1 4")) {
        failed++;
        return;
      }
    }
    void (async () => {
      let pending = "";
      for (;;) {
        const n = await conn.read(buf).catch(() => null);
        if (n === null) return;
        const t = now();
        pending += decoder.decode(buf.subarray(0, n));
        const cut = pending.lastIndexOf("\n\n");
        if (cut < 0) continue;
        for (const m of pending.slice(0, cut).matchAll(SENT_AT)) latencies.push(t - Number(m[1]));
        pending = pending.slice(cut + 2);
      }
    })();
  }));
  const connectMs = performance.now() - t0;
  const cpu1 = await cpuMs(server);
  const main1 = mainCpuMs(server);
  const health: number[] = [];
  let appending = true;
  const probing = (async () => {
    while (appending) {
      const h0 = performance.now();
      await (await fetch(`${server.base}/api/health`)).body?.cancel();
      health.push(performance.now() - h0);
      await sleep(20);
    }
  })();
  for (let i = 0; i < s.appends; i++) {
    const run = s.runs[i % s.runs.length];
    await (await fetch(`${server.control}/append?run=${run}`, {
      method: "POST",
      body: JSON.stringify([stepRecord(run, i, now())]),
    })).body?.cancel();
    await sleep(s.gapMs);
  }
  const expected = Math.floor(s.appends / s.runs.length) * (s.streams - failed);
  const deadline = performance.now() + 15_000;
  while (latencies.length < expected && performance.now() < deadline) await sleep(10);
  appending = false;
  await probing;
  const cpu2 = await cpuMs(server);
  const main2 = mainCpuMs(server);
  for (const conn of conns) conn.close();
  latencies.sort((a, b) => a - b);
  health.sort((a, b) => a - b);
  return {
    connectMs,
    latencies,
    expected,
    failed,
    health,
    connectCpuMs: cpu1 - cpu0,
    connectMainCpuMs: main1 - main0,
    /** Server CPU per delivered frame (µs), appends and health probes included. */
    cpuPerFrameUs: ((cpu2 - cpu1) * 1000) / Math.max(1, latencies.length),
    /** The same for the main thread alone (the app; the connection front has its own thread). */
    mainCpuPerFrameUs: ((main2 - main1) * 1000) / Math.max(1, latencies.length),
  };
}

const SCENARIOS = [
  { name: "100 streams, 1 run", streams: 100, runs: 1, target: 5 },
  { name: "1,000 streams, 1 run", streams: 1000, runs: 1, target: 20 },
  { name: "1,000 streams, 100 runs", streams: 1000, runs: 100, target: 20 },
];

export async function main(args: string[] = Deno.args): Promise<Row[]> {
  const { values } = parseArgs({
    args,
    options: {
      store: { type: "string", default: "file,sqlite" },
      rounds: { type: "string", default: "1" },
      baseline: { type: "string" },
      "cpu-prof": { type: "string" },
      only: { type: "string", default: "" },
      direct: { type: "boolean", default: false },
    },
  });
  const trees = benchTrees(values.baseline);
  const rows: Row[] = [];
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const store of values.store!.split(",")) {
      for (const { label: tree, path } of trees) {
        const server = await startServer(path, store, values["cpu-prof"], values.direct);
        try {
          const runs = await startRuns(server.base, 100);
          for (const sc of SCENARIOS.filter((x) => x.name.includes(values.only!))) {
            const r = await measure(server, {
              streams: sc.streams,
              runs: runs.slice(0, sc.runs),
              appends: sc.runs > 1 ? 300 : sc.streams >= 1000 ? 40 : 60,
              gapMs: sc.runs > 1 ? 5 : sc.streams >= 1000 ? 20 : 5,
            });
            const lat = r.latencies;
            const row = (measure: string, value: string, target: string) =>
              rows.push({ tree: `${tree} #${round}`, store, measure, value, target });
            row(
              `SSE append→client, ${sc.name}`,
              `p50 ${percentile(lat, 50).toFixed(1)} / p99 ${
                percentile(lat, 99).toFixed(1)
              } ms (${lat.length}/${r.expected}${r.failed ? `, ${r.failed} refused` : ""})`,
              `p99 ≤ ${sc.target} ms`,
            );
            row(
              `server CPU per frame delivered, ${sc.name}`,
              `${r.cpuPerFrameUs.toFixed(0)} µs (main thread ${r.mainCpuPerFrameUs.toFixed(0)} µs)`,
              "",
            );
            if (sc.streams === 1000) {
              row(
                `connect 1,000 streams (${sc.runs} run${sc.runs > 1 ? "s" : ""})`,
                `${r.connectMs.toFixed(0)} ms (server CPU ${r.connectCpuMs.toFixed(0)} ms, main thread ${
                  r.connectMainCpuMs.toFixed(0)
                } ms)`,
                "≤ 1000 ms",
              );
              row(
                `health while streaming (${sc.runs} run${sc.runs > 1 ? "s" : ""})`,
                `p50 ${percentile(r.health, 50).toFixed(1)} / p99 ${percentile(r.health, 99).toFixed(1)} ms`,
                "keeps answering",
              );
            }
          }
        } finally {
          await stopServer(server);
        }
      }
    }
  }
  console.log("SSE fan-out (server in its own process; shared machine: figures are noisy)");
  console.table(rows);
  return rows;
}

if (import.meta.main) await main();
