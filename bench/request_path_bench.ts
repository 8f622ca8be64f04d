/**
 * The per-request HTTP path (issue 16): requests/s at 16 clients and the server's CPU per request for
 * `GET /api/health` (no security stage), an authenticated `GET /api/gateway/runs?limit=1` and a
 * durable `emit_event` command append. The server runs in its own process (bench/sse_server.ts:
 * runner off, security on), so the CPU figures are the server's alone (from /proc; 0 elsewhere).
 *
 *   deno run -A bench/request_path_bench.ts [--store sqlite|file] [--seconds 4] [--rounds 3] [--baseline <tree>]
 *
 * `--baseline <tree>` (e.g. `git archive main | tar -x -C /tmp/base`) measures that tree too, rounds
 * interleaved so a noisy machine biases neither side; medians are printed per tree.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AUTH, JSON_HEADERS } from "./bench_server.ts";
import { saturate } from "./http_bench.ts";

const CLIENTS = 16;

/** utime + stime of `pid` in seconds (Linux; 0 elsewhere). */
function cpuS(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

const emit = (i: number) =>
  JSON.stringify({
    command_id: `bench-${i}-${crypto.randomUUID()}`,
    run_id: "bench-session",
    type: "emit_event",
    payload: { name: "bench", scope: "session" },
  });

type Figures = Record<string, number>;

async function measure(tree: string | undefined, store: string, seconds: number): Promise<Figures> {
  const script = join(import.meta.dirname!, "sse_server.ts");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, "--store", store, ...(tree ? ["--src", tree] : [])],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let head = "";
  while (!head.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) throw new Error("the bench server exited before listening");
    head += value;
  }
  const { base, pid } = JSON.parse(head.split("\n")[0]);
  const cases: [string, (i: number) => Promise<Response>][] = [
    ["health", () => fetch(`${base}/api/health`)],
    ["auth GET", () => fetch(`${base}/api/gateway/runs?limit=1`, { headers: AUTH })],
    [
      "command",
      (i) => fetch(`${base}/api/gateway/commands`, { method: "POST", headers: JSON_HEADERS, body: emit(i) }),
    ],
  ];
  const out: Figures = {};
  try {
    for (const [name, call] of cases) {
      const once = async (i: number) => {
        const res = await call(i);
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${name}: ${res.status}`);
      };
      await saturate(CLIENTS, 1, once); // warm-up
      const cpu0 = cpuS(pid);
      const t0 = performance.now();
      const n = await saturate(CLIENTS, seconds, once);
      out[`${name} req/s`] = n / ((performance.now() - t0) / 1000);
      out[`${name} server µs/req`] = (cpuS(pid) - cpu0) * 1e6 / n;
    }
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await lines.cancel().catch(() => {});
  }
  return out;
}

export async function main(args: string[] = Deno.args): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      store: { type: "string", default: "sqlite" },
      seconds: { type: "string", default: "4" },
      rounds: { type: "string", default: "3" },
      baseline: { type: "string" },
    },
  });
  const trees: [string, string | undefined][] = values.baseline
    ? [["baseline", values.baseline], ["this tree", undefined]]
    : [["this tree", undefined]];
  const results = new Map<string, Figures[]>();
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [label, tree] of round % 2 ? [...trees].reverse() : trees) {
      const figures = await measure(tree, values.store!, Number(values.seconds));
      results.set(label, [...results.get(label) ?? [], figures]);
      const text = Object.entries(figures).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(", ");
      console.log(`round ${round + 1} ${label}: ${text}`);
    }
  }
  const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(
    `Request path (store: ${values.store}, server in its own process, ${CLIENTS} clients), medians:`,
  );
  for (const [label, rounds] of results) {
    const text = Object.keys(rounds[0]).map((k) => `${k} ${median(rounds.map((r) => r[k])).toFixed(0)}`);
    console.log(`${label.padEnd(10)} ${text.join(", ")}`);
  }
}

if (import.meta.main) await main();
