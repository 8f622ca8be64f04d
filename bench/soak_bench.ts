/**
 * Soak under abuse: `gateway serve` (the real entry, as a subprocess) takes normal load from this
 * process while slow clients hold connections open — bodies that trickle below the minimum rate,
 * bodies that stall, idle connections that never send a header (each reconnects once closed). Prints the p99 latency of normal
 * requests unloaded vs. loaded, and the server's open file descriptors before, during and after
 * (growth would mean leaked slots or connections).
 *
 *   deno run -A bench/soak_bench.ts [--seconds 120] [--store file|sqlite]
 */
import { parseArgs } from "node:util";
import { startServe } from "../tests/helpers/gateway_process.ts";
import { sandboxTempDir } from "../tests/helpers/paths.ts";

const TOKEN = "soak-token-0123456789abcdef"; // 24+ characters: the bind is dual-stack (::)
const HEADERS = { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" };
const SLOW_CLIENTS = 48;
const IDLE_CONNECTIONS = 200;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
};

async function metricsText(base: string): Promise<string> {
  return await (await fetch(`${base}/metrics`, { headers: HEADERS })).text();
}

/** `header/idle timed out, refused` from the gateway_connections_* series. */
function connectionMetrics(text: string): string {
  const value = (series: string) =>
    text.split("\n").find((l) => l.startsWith(`${series} `))?.split(" ")[1] ?? "?";
  return `${value('gateway_connections_timed_out_total{reason="header"}')}/` +
    `${value('gateway_connections_timed_out_total{reason="idle"}')} timed out, ` +
    `${value('gateway_connections_refused_total{reason="per_ip"}')} refused`;
}

async function openFds(pid: number): Promise<number | null> {
  try {
    return (await Array.fromAsync(Deno.readDir(`/proc/${pid}/fd`))).length;
  } catch {
    return null;
  }
}

/** Normal load: 8 lanes alternating a run list and an emit_event command; returns latencies (ms). */
async function normalLoad(base: string, seconds: number): Promise<{ latencies: number[]; errors: number }> {
  const end = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  let errors = 0;
  let n = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (performance.now() < end) {
      const i = n++;
      const t0 = performance.now();
      const res = i % 2 === 0
        ? await fetch(`${base}/api/gateway/runs?limit=10`, { headers: HEADERS })
        : await fetch(`${base}/api/gateway/commands`, {
          method: "POST",
          headers: HEADERS,
          body: JSON.stringify({
            command_id: `soak-${crypto.randomUUID()}`,
            run_id: "soak",
            type: "emit_event",
            payload: { name: "tick" },
          }),
        });
      await res.body?.cancel();
      if (res.status !== 200) errors++;
      latencies.push(performance.now() - t0);
    }
  }));
  return { latencies, errors };
}

/** Slow clients until `signal`: trickling and stalled bodies (reconnecting when cut) and idle sockets. */
async function slowClients(base: string, signal: AbortSignal): Promise<{ cut: number; idleCut: number }> {
  const { hostname, port } = new URL(base);
  let cut = 0;
  const head = `POST /api/gateway/runs/start HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n` +
    `Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n`;
  const lane = async (trickle: boolean) => {
    while (!signal.aborted) {
      let conn: Deno.TcpConn | null = null;
      try {
        conn = await Deno.connect({ hostname, port: Number(port) });
        await conn.write(new TextEncoder().encode(head + "{"));
        const reply = conn.read(new Uint8Array(1024));
        while (!signal.aborted) {
          const done = await Promise.race([
            reply.then(() => true),
            new Promise((r) => setTimeout(() => r(false), 500)),
          ]);
          if (done) {
            cut++;
            break;
          }
          if (trickle) await conn.write(new Uint8Array([0x20]));
        }
      } catch {
        cut++;
      } finally {
        conn?.close();
      }
    }
  };
  // Idle sockets that never send a header; each reconnects once the server closes it.
  const aborted = new Promise<false>((r) => signal.addEventListener("abort", () => r(false), { once: true }));
  const idleLane = async () => {
    while (!signal.aborted) {
      const conn = await Deno.connect({ hostname, port: Number(port) }).catch(() => null);
      if (!conn) {
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      const closed = conn.read(new Uint8Array(64)).then(() => true, () => true);
      if (await Promise.race([closed, aborted])) idleCut++;
      conn.close();
      await closed;
    }
  };
  let idleCut = 0;
  await Promise.all([
    ...Array.from({ length: SLOW_CLIENTS }, (_, i) => lane(i % 2 === 0)),
    ...Array.from({ length: IDLE_CONNECTIONS }, idleLane),
  ]);
  return { cut, idleCut };
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { seconds: { type: "string" }, store: { type: "string" } } });
  const seconds = Number(values.seconds ?? "120");
  const store = values.store ?? "file";
  const dir = await sandboxTempDir("soak-");
  const gw = await startServe({
    ABSTRACTGATEWAY_DATA_DIR: dir,
    ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN,
    ABSTRACTGATEWAY_STORE_BACKEND: store,
    ABSTRACTGATEWAY_LOG_LEVEL: "error",
    ABSTRACTGATEWAY_BODY_IDLE_TIMEOUT_S: "5",
    ABSTRACTGATEWAY_MAX_INBOX_DEPTH: "0",
  }, ["--host", "::"]);
  // Slow clients come from 127.0.0.1, normal load from ::1: two client addresses, as in real life, so the
  // per-address connection cap holds the abusive one back and not the others.
  const { port } = new URL(gw.url);
  const slowBase = `http://127.0.0.1:${port}`;
  const normalBase = `http://[::1]:${port}`;
  const pid = gw.child.pid;
  try {
    const fdsStart = await openFds(pid);
    const unloaded = await normalLoad(normalBase, Math.min(15, seconds / 4));
    const stop = new AbortController();
    const slow = slowClients(slowBase, stop.signal);
    await new Promise((r) => setTimeout(r, 2_000));
    const loaded = await normalLoad(normalBase, seconds);
    const fdsLoaded = await openFds(pid);
    stop.abort();
    const { cut, idleCut } = await slow;
    await new Promise((r) => setTimeout(r, 1_000));
    const fdsEnd = await openFds(pid);
    const p99u = percentile(unloaded.latencies, 99);
    const p99l = percentile(loaded.latencies, 99);
    console.table([
      {
        measure: "normal p99, unloaded",
        value: `${p99u.toFixed(1)} ms`,
        detail: `${unloaded.latencies.length} requests, ${unloaded.errors} non-200`,
      },
      {
        measure: "normal p99, under slow clients",
        value: `${p99l.toFixed(1)} ms`,
        detail: `${loaded.latencies.length} requests, ${loaded.errors} non-200, ratio ${
          (p99l / p99u).toFixed(2)
        }×`,
      },
      {
        measure: "slow clients",
        value: `${SLOW_CLIENTS} + ${IDLE_CONNECTIONS} idle`,
        detail: `${cut} slow requests and ${idleCut} idle connections cut by deadlines in ${seconds} s`,
      },
      {
        measure: "server connection metrics",
        value: connectionMetrics(await metricsText(normalBase)),
        detail: "timed out by header/idle deadline, refused over the per-address cap",
      },
      {
        measure: "server open fds",
        value: `${fdsStart} → ${fdsLoaded} → ${fdsEnd}`,
        detail: "start → under load → after the slow clients left",
      },
    ]);
  } finally {
    await gw.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main(Deno.args);
