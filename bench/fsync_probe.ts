/**
 * fsync latency on the data disk: what bounds any durable write (one commit = at least one fsync).
 *
 *   deno run -A bench/fsync_probe.ts [--dir ./data] [--count 200]
 *
 * Appends 4 KiB and fdatasyncs, `count` times, in a temp file under `dir`; prints p50 / p99 / max.
 */
import { parseArgs } from "node:util";
import { percentile } from "./bench_server.ts";

export async function probeFsync(
  dir: string,
  count: number,
): Promise<{ p50: number; p99: number; max: number }> {
  await Deno.mkdir(dir, { recursive: true });
  const path = await Deno.makeTempFile({ dir, prefix: "fsync-probe-" });
  const file = await Deno.open(path, { write: true, append: true });
  const block = new Uint8Array(4096).fill(120);
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      await file.write(block);
      const t = performance.now();
      await file.syncData();
      times.push(performance.now() - t);
    }
  } finally {
    file.close();
    await Deno.remove(path);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), max: times[times.length - 1] };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { dir: { type: "string", default: "./data" }, count: { type: "string", default: "200" } },
  });
  const r = await probeFsync(values.dir, Number(values.count));
  console.log(
    `fdatasync of a 4 KiB append: p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, max ${
      r.max.toFixed(2)
    } ms`,
  );
}
