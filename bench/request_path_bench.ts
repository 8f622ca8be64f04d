/**
 * The per-request HTTP path (issue 16): requests/s at 16 clients and the server's CPU per request for
 * `GET /api/health` (no security stage), an authenticated `GET /api/gateway/runs?limit=1` and a
 * durable `emit_event` command append. The server is a real `serve --no-runner` in its own process
 * (bench/serve_process.ts), so the CPU figures are the server's alone (from /proc; 0 elsewhere).
 *
 *   deno run -A bench/request_path_bench.ts [--store file,sqlite] [--seconds 4] [--rounds 1] [--baseline <tree>]
 *
 * `--baseline <tree>` (e.g. `git archive main | tar -x -C /tmp/base`) measures that tree too, rounds
 * interleaved so a noisy machine biases neither side (bench/compare.ts).
 */
import { parseArgs } from "node:util";
import { AUTH, JSON_HEADERS } from "./bench_server.ts";
import { saturate } from "./http_bench.ts";
import { COMPARE_OPTIONS, compareTrees, type Comparison, type Tree } from "./compare.ts";
import { benchHome, startBenchServe } from "./serve_process.ts";

const CLIENTS = 16;

const emit = (i: number) =>
  JSON.stringify({
    command_id: `bench-${i}-${crypto.randomUUID()}`,
    run_id: "bench-session",
    type: "emit_event",
    payload: { name: "bench", scope: "session" },
  });

async function measure(tree: Tree, store: string, seconds: number, add: Comparison["add"]): Promise<void> {
  const home = await benchHome("gw-request-bench-");
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
