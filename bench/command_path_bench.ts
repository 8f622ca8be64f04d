/**
 * The command path (issue 16), each figure printed beside its target: commands acknowledged durably
 * per second at 16 clients, CPU per appended command, and the runner's drain of a burst that is
 * already in the inbox — `emit_event` commands (no waiter) and `resume` commands that fail (their
 * run is not waiting, so each failure is recorded in the run's ledger).
 *
 *   deno run -A bench/command_path_bench.ts [--store file|sqlite] [--burst 5000] [--fails 1000]
 *
 * The API runs without its runner while the commands are appended; a runner is then started on the
 * same stores and timed until its cursor reaches the last command. Server, runner and clients share
 * this process, so CPU per appended command includes the clients' share (an upper bound).
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { Runner } from "../src/runner/runner.ts";
import type { Gateway } from "../src/gateway.ts";
import { openBenchServer, post } from "./bench_server.ts";

interface Row {
  measure: string;
  value: string;
  target: string;
}

const CLIENTS = 16;

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Appends `total` commands over HTTP on 16 lanes; acknowledged/s and CPU per command. */
async function appendBurst(base: string, total: number, body: (i: number) => unknown) {
  const cpu0 = cpuMs();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (next < total) await post(base, "/api/gateway/commands", body(next++));
  }));
  return { perS: total / ((performance.now() - t0) / 1000), cpuMs: (cpuMs() - cpu0) / total };
}

/** Starts a runner on the gateway's stores and times it until the inbox is drained. */
async function drain(gw: Gateway, count: number) {
  const last = await gw.stores.commands.lastSeq();
  const cpu0 = cpuMs();
  const t0 = performance.now();
  const runner = new Runner({
    config: gw.config,
    stores: gw.stores,
    runtime: gw.runtime,
    bundles: gw.bundles,
  });
  await runner.start();
  try {
    await runner.ready;
    while (await gw.stores.commands.loadCursor() < last) await new Promise((r) => setTimeout(r, 5));
  } finally {
    await runner.stop();
  }
  return { seconds: (performance.now() - t0) / 1000, cpuMs: (cpuMs() - cpu0) / count };
}

export async function main(args: string[] = Deno.args): Promise<Row[]> {
  const { values } = parseArgs({
    args,
    options: {
      store: { type: "string", default: "file" },
      burst: { type: "string", default: "5000" },
      fails: { type: "string", default: "1000" },
    },
  });
  const burst = Number(values.burst);
  const fails = Number(values.fails);
  const { gw, base, close } = await openBenchServer(values.store, false, "bench-cmds-");
  const rows: Row[] = [];
  try {
    const acks = await appendBurst(base, burst, (i) => ({
      command_id: `emit-${i}-${crypto.randomUUID()}`,
      run_id: "bench-session",
      type: "emit_event",
      payload: { name: "bench", scope: "session" },
    }));
    rows.push({
      measure: "commands acknowledged/s, 16 clients",
      value: acks.perS.toFixed(0),
      target: "≥ 5000",
    });
    rows.push({
      measure: "CPU per appended command (server + clients)",
      value: `${acks.cpuMs.toFixed(2)} ms`,
      target: "-",
    });
    const emits = await drain(gw, burst);
    rows.push({
      measure: `runner: apply ${burst} emit_event already in the inbox`,
      value: `${emits.seconds.toFixed(2)} s`,
      target: `≤ ${(burst / 5000).toFixed(2)} s (5000/s)`,
    });
    rows.push({
      measure: "CPU per applied emit_event",
      value: `${emits.cpuMs.toFixed(2)} ms`,
      target: "≤ 0.3 ms (with its append)",
    });
    // Started without a runner, the run stays `running`: every resume fails ("Run is not waiting").
    const runId = String((await post(base, "/api/gateway/runs/start", { bundle_id: "demo" })).run_id);
    await appendBurst(base, fails, (i) => ({
      command_id: `resume-${i}-${crypto.randomUUID()}`,
      run_id: runId,
      type: "resume",
      payload: { payload: { answer: i } },
    }));
    const failed = await drain(gw, fails);
    rows.push({
      measure: `runner: apply ${fails} failing resume commands`,
      value: `${failed.seconds.toFixed(2)} s`,
      target: `≤ ${(fails / 5000).toFixed(2)} s (5000/s)`,
    });
    rows.push({ measure: "CPU per failing resume", value: `${failed.cpuMs.toFixed(2)} ms`, target: "-" });
    const records = await gw.stores.ledger.count(runId);
    if (records < fails) throw new Error(`expected ${fails} failure records, found ${records}`);
  } finally {
    await close();
  }
  const w = [Math.max(...rows.map((r) => r.measure.length)), Math.max(...rows.map((r) => r.value.length))];
  console.log(`Command path (store: ${values.store}, runner started after the burst, loopback)`);
  for (const r of rows) {
    console.log(`${r.measure.padEnd(w[0])}  ${r.value.padStart(w[1])}  target ${r.target}`);
  }
  return rows;
}

if (import.meta.main) await main();
