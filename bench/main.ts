/** `deno task bench`: every benchmark in turn, each printing its own table. */
import { main as storeBench } from "./store_bench.ts";
import { main as httpBench } from "./http_bench.ts";

console.log("== stores ==");
await storeBench();
console.log("\n== HTTP API (file store) ==");
await httpBench([]);
console.log("\n== HTTP API (SQLite store) ==");
await httpBench(["--store", "sqlite"]);
