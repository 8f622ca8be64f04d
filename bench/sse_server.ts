/**
 * The server side of the SSE bench (bench/sse_bench.ts), in its own process: a gateway on loopback
 * (runner off, security on) from the source tree `--src` (default: this one, so a baseline tree can
 * be measured beside it), plus a small control port that appends ledger records through the store,
 * as the runtime would. Streams go through the connection front (src/net/front.ts), as they do
 * under `gateway serve`, unless `--direct` (the internal `Deno.serve` only, to see the front's share).
 * Prints one JSON line with both addresses; stops on SIGTERM.
 *
 *   deno run -A bench/sse_server.ts [--src <tree>] [--store file|sqlite] [--direct]
 */
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";

const { values } = parseArgs({
  options: {
    src: { type: "string" },
    store: { type: "string", default: "file" },
    direct: { type: "boolean", default: false },
  },
});
const root = resolve(values.src ?? join(import.meta.dirname!, ".."));
const { openBenchServer } = await import(pathToFileURL(join(root, "bench/bench_server.ts")).href);
const { gw, base: direct, handler, close } = await openBenchServer(values.store, false, "bench-sse-");
const { serveGuarded } = await import(pathToFileURL(join(root, "src/net/front.ts")).href);
const { frontLimits } = await import(pathToFileURL(join(root, "src/cli/listen.ts")).href);
// `serve`'s front with its default deadlines; no per-address cap (every bench stream is from loopback).
const front = values.direct ? null : await serveGuarded({ hostname: "127.0.0.1", port: 0 }, handler, {
  ...frontLimits(gw.config),
  maxPerIp: 0,
});
const base = front ? `http://127.0.0.1:${front.addr.port}` : direct;

/** POST /append?run=<id> with a JSON array of records: appends them in one batch. */
const control = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
  const url = new URL(req.url);
  const runId = url.searchParams.get("run") ?? "";
  if (url.pathname === "/append") {
    return Response.json({ length: await gw.stores.ledger.append(runId, await req.json()) });
  }
  if (url.pathname === "/count") return Response.json({ length: await gw.stores.ledger.count(runId) });
  return new Response("not found", { status: 404 });
});

Deno.addSignalListener("SIGTERM", async () => {
  await control.shutdown();
  await front?.shutdown();
  await close();
  Deno.exit(0);
});
console.log(JSON.stringify({ base, control: `http://127.0.0.1:${control.addr.port}`, pid: Deno.pid }));
