/** `deno task bench`: every benchmark in turn, each printing its own table, plus the process's memory. */
import { main as storeBench } from "./store_bench.ts";
import { main as httpBench } from "./http_bench.ts";
import { main as soakBench } from "./soak_bench.ts";
import { main as sseBench } from "./sse_bench.ts";
import { main as pgBench } from "./pg_bench.ts";
import { main as runPathBench } from "./run_path_bench.ts";
import { main as commandPathBench } from "./command_path_bench.ts";
import { main as requestPathBench } from "./request_path_bench.ts";
import { probeFsync } from "./fsync_probe.ts";
import { main as uploadBench } from "./upload_bench.ts";

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const memory = (label: string) => {
  const m = Deno.memoryUsage();
  console.log(`memory after ${label}: rss ${mib(m.rss)}, heap used ${mib(m.heapUsed)}`);
};

console.log("== stores ==");
await storeBench();
memory("store bench");
console.log("\n== HTTP API (file store) ==");
await httpBench([]);
memory("HTTP bench (file)");
console.log("\n== HTTP API (SQLite store) ==");
await httpBench(["--store", "sqlite"]);
memory("HTTP bench (SQLite), 1000 SSE streams included");
{
  // What bounds every durable write below: one commit costs at least one fdatasync.
  const f = await probeFsync("./data", 200);
  console.log(`\nfdatasync of a 4 KiB append: p50 ${f.p50.toFixed(2)} ms, p99 ${f.p99.toFixed(2)} ms`);
}
// GATEWAY_BENCH_BASELINE=<source tree> measures that tree too, interleaved (e.g. main, unpacked by git archive).
const baseline = Deno.env.get("GATEWAY_BENCH_BASELINE");
const baselineArgs = baseline ? ["--baseline", baseline] : [];
console.log("\n== Request path: health, authenticated GET, command append (serve in its own process) ==");
await requestPathBench(baselineArgs);
console.log("\n== Run path: serve in its own process, 16 client lanes here (file and SQLite stores) ==");
await runPathBench(baselineArgs);
console.log("\n== Command path: append, then a runner process drains the burst (file and SQLite stores) ==");
await commandPathBench(baselineArgs);
memory("run and command path benches (load generator only)");
console.log("\n== Soak: slow clients + normal load (file store, separate server process) ==");
await soakBench(["--seconds", Deno.env.get("GATEWAY_SOAK_S") ?? "180"]);
console.log("\n== SSE fan-out, file and SQLite stores (server in its own process) ==");
await sseBench(baselineArgs);
console.log("\n== Memory soak: steady mixed load (file store, separate server process) ==");
await soakBench(["--mode", "memory", "--seconds", Deno.env.get("GATEWAY_MEMORY_SOAK_S") ?? "600"]);
console.log("\n== Bundle upload: ~60 MB, health liveness and peak RSS (separate server process) ==");
await uploadBench(["--rounds", "1"]);
console.log("\n== PostgreSQL store ==");
await pgBench();
memory("PostgreSQL bench");
