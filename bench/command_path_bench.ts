/**
 * The command path (issue 16), each figure beside its target: commands acknowledged durably per
 * second at 16 clients and the API's CPU per append; then a runner's drain of a burst already in
 * the inbox — `emit_event` commands (no waiter) and `resume` commands that fail (their run is not
 * waiting, so each failure is recorded in the run's ledger) — and the runner's CPU per command.
 *
 *   deno run -A bench/command_path_bench.ts [--store file,sqlite] [--burst 5000] [--fails 1000]
 *     [--rounds 1] [--baseline <tree>]
 *
 * `main.ts serve --no-runner` runs in its own process (bench/serve_process.ts); this process is the
 * load generator (16 lanes of POST /api/gateway/commands). A `main.ts runner` process on the same
 * data dir starts first (booted, lock held, heartbeat seen by the API) and is then paused with
 * SIGSTOP, so each burst lands in the inbox with no runner working, as if it had been started after
 * the burst but without its boot in the figures. On SIGCONT it is timed until the burst's last command
 * has its outcome readable through the API (GET /commands/{id}, polled every 10 ms; the runner applies
 * in inbox order). CPU figures are each process's user+system time from /proc, divided by the
 * commands. `--baseline <tree>` measures that source tree too, interleaved with this one round by round.
 */
import { parseArgs } from "node:util";
import { getJson, post } from "./bench_server.ts";
import { COMPARE_OPTIONS, compareTrees, type Comparison, type Tree } from "./compare.ts";
import {
  benchHome,
  type BenchRunner,
  type BenchServe,
  cpuMsOf,
  startBenchRunner,
  startBenchServe,
} from "./serve_process.ts";

const CLIENTS = 16;

interface Command {
  command_id: string;
  run_id: string;
  type: string;
  payload: Record<string, unknown>;
}

/** Appends `total` commands over HTTP on 16 lanes: acknowledged/s, API and generator CPU per command. */
async function appendBurst(server: BenchServe, total: number, command: (i: number) => Command) {
  const cpu0 = { server: server.cpuMs(), self: cpuMsOf("self") };
  const t0 = performance.now();
  let next = 0;
  let last = { seq: -1, id: "" };
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (next < total) {
      const c = command(next++);
      const seq = Number((await post(server.url, "/api/gateway/commands", c)).seq);
      if (seq > last.seq) last = { seq, id: c.command_id };
    }
  }));
  const elapsedMs = performance.now() - t0;
  return {
    count: total,
    /** The command appended last (highest seq): the runner applies in inbox order. */
    last: last.id,
    perS: total / (elapsedMs / 1000),
    serverCpuMs: (server.cpuMs() - cpu0.server) / total,
    /** The API's CPU over the burst, in % of one core: well under 100 means it waited (disk, or other load). */
    serverBusy: (100 * (server.cpuMs() - cpu0.server)) / elapsedMs,
    selfCpuMs: (cpuMsOf("self") - cpu0.self) / total,
  };
}

type Burst = Awaited<ReturnType<typeof appendBurst>>;

/**
 * Continues the paused `runner` and times it until the burst's last command has its outcome:
 * seconds, and the runner's CPU per command. Pauses it again.
 */
async function drain(runner: BenchRunner, api: BenchServe, burst: Burst) {
  const cpu0 = runner.cpuMs();
  const t0 = performance.now();
  runner.resume();
  while ((await getJson(api.url, `/api/gateway/commands/${burst.last}`)).status === "pending") {
    await new Promise((r) => setTimeout(r, 10));
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpuMs = (runner.cpuMs() - cpu0) / burst.count;
  runner.pause();
  return { seconds, cpuMs };
}

/** Until `serve --no-runner` is ready, i.e. it sees the runner's heartbeat: the runner works. */
async function untilReady(api: BenchServe): Promise<void> {
  for (;;) {
    const res = await fetch(`${api.url}/api/health/ready`);
    await res.body?.cancel();
    if (res.ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function measure(tree: Tree, store: string, burst: number, fails: number, add: Comparison["add"]) {
  const home = await benchHome("gw-cmd-bench-");
  const figure = (measure: string, value: number, unit: string, target: string, digits = 0) =>
    add(tree, { measure, value, unit, target, digits });
  const api = await startBenchServe(home, store, tree.path, ["--no-runner"]);
  const runner = await startBenchRunner(home, store, tree.path);
  try {
    await untilReady(api);
    runner.pause();
    const acks = await appendBurst(api, burst, (i) => emitEvent(`emit-${i}`));
    const emits = await drain(runner, api, acks);
    figure("commands acknowledged/s, 16 clients", acks.perS, "", "≥ 5000");
    figure("API CPU per appended command", acks.serverCpuMs, "ms", "-", 2);
    figure("API busy while appending (% of one core)", acks.serverBusy, "%", "-");
    figure(`runner: apply ${burst} emit_event already in the inbox`, emits.seconds, "s", perS(burst), 2);
    figure("runner CPU per applied emit_event", emits.cpuMs, "ms", "-", 2);
    figure("CPU per command, append + apply", acks.serverCpuMs + emits.cpuMs, "ms", "≤ 0.3 ms", 2);
    figure("load generator CPU per append (not the server's)", acks.selfCpuMs, "ms", "-", 2);
    // The runner ends this run at once (start → end): every resume then fails ("not waiting").
    const run_id = String((await post(api.url, "/api/gateway/runs/start", { bundle_id: "demo" })).run_id);
    const resumes = await appendBurst(api, fails, (i) => ({
      command_id: `resume-${i}-${crypto.randomUUID()}`,
      run_id,
      type: "resume",
      payload: { payload: { answer: i } },
    }));
    const failed = await drain(runner, api, resumes);
    figure(`runner: apply ${fails} failing resume commands`, failed.seconds, "s", perS(fails), 2);
    figure("runner CPU per failing resume", failed.cpuMs, "ms", "-", 2);
    const page = await getJson(api.url, `/api/gateway/runs/${run_id}/ledger?after=${fails - 1}&limit=1`);
    if ((page.items as unknown[]).length !== 1) {
      throw new Error(`expected ${fails} failure records in the ledger of ${run_id}`);
    }
  } finally {
    await runner.stop();
    await api.stop();
    await Deno.remove(home, { recursive: true });
  }
}

/** The drain target: the 5,000 commands/s of the append target, applied as fast. */
const perS = (n: number) => `≤ ${(n / 5000).toFixed(2)} s (5000/s)`;

const emitEvent = (id: string): Command => ({
  command_id: `${id}-${crypto.randomUUID()}`,
  run_id: "bench-session",
  type: "emit_event",
  payload: { name: "bench", scope: "session" },
});

export async function main(args: string[] = Deno.args): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      ...COMPARE_OPTIONS,
      burst: { type: "string", default: "5000" },
      fails: { type: "string", default: "1000" },
    },
  });
  await compareTrees(
    values,
    (store) => `Command path, store ${store} (serve --no-runner, then a runner, each in its own process)`,
    (tree, store, add) => measure(tree, store, Number(values.burst), Number(values.fails), add),
  );
}

if (import.meta.main) await main();
