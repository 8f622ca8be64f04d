/**
 * Soak under abuse: `gateway serve` (the real entry, as a subprocess) takes normal load from this
 * process, unloaded before and after and, in between, while slow clients hold connections open: bodies
 * that trickle below the minimum rate, bodies that stall, idle connections that never send a header (each
 * reconnects once closed). Prints the p99 latency of normal requests unloaded vs. loaded, and the server's
 * open file descriptors, open connections and held slots (general and SSE) at start, under load, and once
 * every client has closed its connections and the server's deadlines have passed, with a PASS/FAIL line
 * for "p99 within 2× of unloaded" and for "no fd or slot growth" (leaked slots or connections).
 *
 *   deno run -A bench/soak_bench.ts [--seconds 180] [--store file|sqlite]
 *
 * `--mode memory` is the memory soak instead: steady mixed load (hello runs started and replayed,
 * long-lived `events` runs fed emit_event commands, cancelled and replaced, 50 SSE streams that
 * replay first and reconnect across those runs, run lists) for `--seconds` (default 600), printing the
 * server's RSS at start, at intervals and at the end, and its growth after warm-up.
 *
 *   deno run -A bench/soak_bench.ts --mode memory [--seconds 600] [--store file|sqlite]
 */
import { parseArgs } from "node:util";
import { bundlesEnv, startServe } from "../tests/helpers/gateway_process.ts";
import { sandboxTempDir } from "../tests/helpers/paths.ts";

const TOKEN = "soak-token-0123456789abcdef"; // 24+ characters: the bind is dual-stack (::)
const HEADERS = { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" };
const SLOW_CLIENTS = 48;
const IDLE_CONNECTIONS = 200;
/**
 * Descriptors the server may open lazily during the soak and keep (store files, SQLite's WAL and shm, the
 * audit log): the end may exceed the start by this many before it counts as growth.
 */
const FD_TOLERANCE = 8;
/** Longest wait for the server to return to its start state after the clients left (deadlines are 5–10 s). */
const SETTLE_MAX_S = 40;

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

/** What must return to its start value once every client has gone: descriptors, connections, slots. */
interface ServerState {
  fds: number | null;
  connections: number;
  general: number;
  sse: number;
}

const seriesValue = (text: string, series: string) =>
  Number(text.split("\n").find((l) => l.startsWith(`${series} `))?.split(" ")[1] ?? NaN);

/**
 * Open fds from /proc (read first), then the gauges from /metrics over a connection of its own that is
 * closed afterwards (so `gateway_connections_open` counts that one scrape connection at every reading).
 */
async function serverState(pid: number, base: string): Promise<ServerState> {
  const fds = await openFds(pid);
  const client = Deno.createHttpClient({});
  try {
    const text = await (await fetch(`${base}/metrics`, { headers: HEADERS, client })).text();
    return {
      fds,
      connections: seriesValue(text, "gateway_connections_open"),
      general: seriesValue(text, 'gateway_slots_in_use{pool="general"}'),
      sse: seriesValue(text, 'gateway_slots_in_use{pool="sse"}'),
    };
  } finally {
    client.close();
  }
}

const settled = (now: ServerState, start: ServerState) =>
  now.connections <= start.connections && now.general <= start.general && now.sse <= start.sse &&
  (now.fds ?? 0) <= (start.fds ?? 0) + FD_TOLERANCE;

/** Polls until the server is back to `start` (within the fd tolerance) or `maxS` passed; returns the last reading. */
async function waitSettled(pid: number, base: string, start: ServerState, maxS: number) {
  const t0 = performance.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 1_000));
    const state = await serverState(pid, base);
    const waitedS = (performance.now() - t0) / 1000;
    if (settled(state, start) || waitedS >= maxS) return { state, waitedS };
  }
}

const showState = (s: ServerState) => `${s.fds} fds, ${s.connections} conns, slots ${s.general}/${s.sse}`;

/**
 * Normal load: 8 lanes alternating a run list and an emit_event command over a client of its own, closed
 * at the end (so its kept-alive connections go with it); returns latencies (ms).
 */
async function normalLoad(base: string, seconds: number): Promise<{ latencies: number[]; errors: number }> {
  const client = Deno.createHttpClient({});
  const end = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  let errors = 0;
  let n = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (performance.now() < end) {
      const i = n++;
      const t0 = performance.now();
      const res = i % 2 === 0
        ? await fetch(`${base}/api/gateway/runs?limit=10`, { headers: HEADERS, client })
        : await fetch(`${base}/api/gateway/commands`, {
          method: "POST",
          headers: HEADERS,
          client,
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
  client.close();
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

const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;

/** The process's resident set (KiB) from /proc, or NaN. */
async function rssKib(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`).catch(() => "");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

const SOAK_STREAMS = 50;
const LIVE_RUNS = 20;

/** Steady mixed load until `signal`; counts what was done. */
async function mixedLoad(base: string, signal: AbortSignal) {
  const done = { starts: 0, commands: 0, frames: 0, streams: 0, replays: 0, errors: 0 };
  const call = async (path: string, body?: unknown) => {
    try {
      const res = await fetch(base + path, {
        method: body === undefined ? "GET" : "POST",
        headers: HEADERS,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = await res.json().catch(() => null);
      if (!res.ok) done.errors++;
      return json;
    } catch {
      done.errors++;
      return null;
    }
  };
  const finished: string[] = []; // recent hello runs, for replays
  const live: string[] = []; // long-lived events runs: commands and streams go there
  const startEvents = async () => {
    const run = await call("/api/gateway/runs/start", { bundle_id: "events" });
    if (run?.run_id) live.push(run.run_id);
  };
  for (let i = 0; i < LIVE_RUNS; i++) await startEvents();
  const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];
  const lane = (pauseMs: number, work: () => Promise<void>) =>
    (async () => {
      while (!signal.aborted) {
        await work();
        await new Promise((r) => setTimeout(r, pauseMs));
      }
    })();
  const stream = async () => {
    const runId = pick(live);
    if (!runId) return;
    done.streams++;
    try {
      const res = await fetch(`${base}/api/gateway/runs/${runId}/ledger/stream?after=0&heartbeat_s=5`, {
        headers: HEADERS,
        signal: AbortSignal.any([signal, AbortSignal.timeout(5_000 + Math.random() * 10_000)]),
      });
      for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
        done.frames += chunk.split("event: step").length - 1;
      }
    } catch {
      // timed out or aborted: reconnect elsewhere
    }
  };
  await Promise.all([
    lane(20, async () => {
      const run = await call("/api/gateway/runs/start", { bundle_id: "hello", input_data: { name: "soak" } });
      if (run?.run_id) finished.push(run.run_id), done.starts++;
      if (finished.length > 200) finished.splice(0, 100);
    }),
    ...[0, 1].map(() =>
      lane(10, async () => {
        const runId = pick(live);
        if (!runId) return;
        await call("/api/gateway/commands", {
          command_id: `soak-${crypto.randomUUID()}`,
          run_id: runId,
          type: "emit_event",
          payload: { name: "signal.ping", payload: { text: "ping" } },
        });
        done.commands++;
      })
    ),
    // Replace one long-lived run every few seconds: its streams end with `done`, hubs come and go.
    lane(3_000, async () => {
      const old = live.shift();
      if (old) await call("/api/gateway/commands", { command_id: `end-${old}`, run_id: old, type: "cancel" });
      await startEvents();
    }),
    lane(50, async () => {
      const runId = pick(finished);
      if (runId) await call(`/api/gateway/runs/${runId}/ledger?after=0&limit=100`), done.replays++;
      await call("/api/gateway/runs?limit=20");
    }),
    ...Array.from({ length: SOAK_STREAMS }, () => lane(0, stream)),
  ]);
  return done;
}

async function memorySoak(seconds: number, store: string): Promise<void> {
  const dir = await sandboxTempDir("soak-mem-");
  const gw = await startServe({
    ...bundlesEnv(dir, TOKEN),
    ABSTRACTGATEWAY_STORE_BACKEND: store,
    ABSTRACTGATEWAY_LOG_LEVEL: "error",
    ABSTRACTGATEWAY_MAX_SSE: "256",
    ABSTRACTGATEWAY_MAX_SSE_PER_TOKEN: "256",
    ABSTRACTGATEWAY_MAX_INBOX_DEPTH: "0",
  });
  const pid = gw.child.pid;
  const every = Math.max(5, Math.round(seconds / 20));
  const warmUp = Math.max(every, Math.round(seconds / 10));
  try {
    const samples: { t: number; kib: number }[] = [{ t: 0, kib: await rssKib(pid) }];
    console.log(`memory soak (${store} store, ${seconds} s, RSS every ${every} s; warm-up ${warmUp} s)`);
    console.log(`  t=0 s  rss ${mib(samples[0].kib)} (idle)`);
    const stop = new AbortController();
    const load = mixedLoad(gw.url, stop.signal);
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      await new Promise((r) =>
        setTimeout(r, Math.min(every * 1000, seconds * 1000 - (performance.now() - t0)))
      );
      const t = Math.round((performance.now() - t0) / 1000);
      samples.push({ t, kib: await rssKib(pid) });
      console.log(`  t=${t} s  rss ${mib(samples.at(-1)!.kib)}`);
    }
    stop.abort();
    const done = await load;
    const afterWarmUp = samples.find((x) => x.t >= warmUp) ?? samples[1];
    const end = samples.at(-1)!;
    const peak = Math.max(...samples.map((x) => x.kib));
    const perMin = ((end.kib - afterWarmUp.kib) / Math.max(1, end.t - afterWarmUp.t)) * 60;
    console.table([
      {
        measure: "RSS idle → after warm-up → end",
        value: `${mib(samples[0].kib)} → ${mib(afterWarmUp.kib)} → ${mib(end.kib)}`,
      },
      {
        measure: "RSS growth after warm-up",
        value: `${mib(end.kib - afterWarmUp.kib)} (${mib(perMin)}/min), peak ${mib(peak)}`,
      },
      {
        measure: "load done",
        value:
          `${done.starts} starts, ${done.commands} commands, ${done.streams} streams (${done.frames} frames), ` +
          `${done.replays} replays, ${done.errors} errors`,
      },
    ]);
  } finally {
    await gw.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { seconds: { type: "string" }, store: { type: "string" }, mode: { type: "string" } },
  });
  const store = values.store ?? "file";
  if (values.mode === "memory") return await memorySoak(Number(values.seconds ?? "600"), store);
  const seconds = Number(values.seconds ?? "180");
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
    const start = await serverState(pid, normalBase);
    const phaseS = Math.min(15, seconds / 4);
    await normalLoad(normalBase, 5); // warm-up (JIT, store files): not measured
    const before = await normalLoad(normalBase, phaseS);
    const warm = await waitSettled(pid, normalBase, start, SETTLE_MAX_S);
    const stop = new AbortController();
    const slow = slowClients(slowBase, stop.signal);
    await new Promise((r) => setTimeout(r, 2_000));
    const loaded = await normalLoad(normalBase, seconds);
    const during = await serverState(pid, normalBase);
    stop.abort();
    const { cut, idleCut } = await slow;
    // Every client has closed its connections; the server's deadlines free what it still holds.
    const end = await waitSettled(pid, normalBase, start, SETTLE_MAX_S);
    // Unloaded before and after the slow clients, pooled: machine noise hits both sides alike.
    const after = await normalLoad(normalBase, phaseS);
    const unloaded = {
      latencies: [...before.latencies, ...after.latencies],
      errors: before.errors + after.errors,
    };
    const p99u = percentile(unloaded.latencies, 99);
    const p99l = percentile(loaded.latencies, 99);
    const ratio = p99l / p99u;
    const grew = !settled(end.state, start);
    console.table([
      {
        measure: "normal p99, unloaded",
        value: `${p99u.toFixed(1)} ms`,
        detail: `${unloaded.latencies.length} requests, ${unloaded.errors} non-200; before ${
          percentile(before.latencies, 99).toFixed(1)
        } ms, after ${percentile(after.latencies, 99).toFixed(1)} ms`,
      },
      {
        measure: "normal p99, under slow clients",
        value: `${p99l.toFixed(1)} ms`,
        detail: `${loaded.latencies.length} requests, ${loaded.errors} non-200, ratio ${ratio.toFixed(2)}×`,
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
      { measure: "server at start", value: showState(start), detail: "slots general/sse" },
      {
        measure: "after unloaded load",
        value: showState(warm.state),
        detail: `its client closed, ${warm.waitedS.toFixed(0)} s later`,
      },
      { measure: "under slow clients", value: showState(during), detail: "at the end of the loaded phase" },
      {
        measure: "after every client left",
        value: showState(end.state),
        detail: `${end.waitedS.toFixed(0)} s later (waits up to ${SETTLE_MAX_S} s for the deadlines)`,
      },
    ]);
    console.log(
      `${ratio <= 2 ? "PASS" : "FAIL"}: normal p99 within 2× of unloaded (${p99l.toFixed(1)} / ${
        p99u.toFixed(1)
      } ms = ${ratio.toFixed(2)}×)`,
    );
    console.log(
      `${
        grew ? "FAIL" : "PASS"
      }: no fd or slot growth (fds ${start.fds} → ${end.state.fds}, tolerance +${FD_TOLERANCE} ` +
        `for lazily opened store files; connections ${start.connections} → ${end.state.connections}; ` +
        `general slots ${start.general} → ${end.state.general}; SSE slots ${start.sse} → ${end.state.sse})`,
    );
  } finally {
    await gw.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main(Deno.args);
