/**
 * The gateway's metrics. No module-level singleton: `createGatewayMetrics()` returns one object that
 * the composition root wires in: `instrumentStores` (store_hooks.ts) for ledger appends and command
 * outcomes, `metricsMiddleware` (http.ts) for request latency and open SSE streams, `runCounter` for
 * runs by status, and `metricsRoute` to serve it.
 */
import type { RunStore } from "../store/types.ts";
import { RUN_STATUSES, type RunStatus } from "../runtime/types.ts";
import { errorText, logger } from "../util/log.ts";
import { Registry } from "./registry.ts";
import type { ConnCounts, ConnEvents } from "../net/front.ts";

const log = logger("metrics");

export type RunCounts = Partial<Record<RunStatus, number>>;

export interface GatewayMetricsOptions {
  /** Counts runs by status at scrape time (see `runCounter`); without it `gateway_runs` is not exported. */
  countRuns?: () => Promise<RunCounts>;
  /** Latency buckets in seconds (default: Prometheus client defaults). */
  latencyBuckets?: number[];
}

/** Concurrency slots held now, by pool (src/security/throttle.ts). */
export interface SlotsInUse {
  general: number;
  sse: number;
}

export interface GatewayMetrics {
  readonly registry: Registry;
  /** One finished HTTP request; `route` is the route pattern (`/api/gateway/runs/:run_id`), never the raw path. */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  commandOutcome(outcome: "applied" | "failed"): void;
  ledgerAppended(records: number): void;
  /** Called by `metricsMiddleware` for every `text/event-stream` response; no other wiring needed. */
  sseOpened(): void;
  sseClosed(): void;
  /** Fed by the connection front (src/net): open connections, refusals and timeouts. */
  readonly connections: ConnEvents;
  /** A run's shared SSE reader (hub) opened or closed (`gateway_sse_hubs`). */
  sseHubOpened(): void;
  sseHubClosed(): void;
  /** Where `gateway_slots_in_use` reads the pools (the security pipeline's); 0 until set. */
  slotsFrom(read: () => SlotsInUse): void;
  /** The exposition text (Prometheus format 0.0.4). */
  render(): Promise<string>;
}

export function createGatewayMetrics(options: GatewayMetricsOptions = {}): GatewayMetrics {
  const registry = new Registry();
  const { countRuns } = options;
  if (countRuns) {
    registry.gauge("gateway_runs", "Runs in the store by status.", ["status"], async (gauge) => {
      try {
        const counts = await countRuns();
        for (const status of RUN_STATUSES) gauge.set({ status }, counts[status] ?? 0);
      } catch (err) {
        // Keep the last values: a scrape should not fail because one store query did.
        log.warn("counting runs for /metrics failed", { error: errorText(err) });
      }
    });
  }
  const commands = registry.counter(
    "gateway_commands_total",
    "Commands processed by the runner, by outcome.",
    ["outcome"],
  );
  commands.inc({ outcome: "applied" }, 0);
  commands.inc({ outcome: "failed" }, 0);
  const ledger = registry.counter("gateway_ledger_appends_total", "Step records appended to run ledgers.");
  const sse = registry.gauge("gateway_sse_streams_open", "Ledger SSE streams currently open.");
  const hubs = registry.gauge(
    "gateway_sse_hubs",
    "Runs with open ledger SSE streams: one shared ledger reader each, gone with the run's last stream.",
  );
  const requests = registry.counter(
    "gateway_http_requests_total",
    "HTTP requests answered, by method, route pattern and status.",
    ["method", "route", "status"],
  );
  const latency = registry.histogram(
    "gateway_http_request_duration_seconds",
    "Time to answer an HTTP request (to the response headers for streams), by method, route pattern and status.",
    ["method", "route", "status"],
    options.latencyBuckets,
  );
  // Each request's series resolved once per method, status and route (as many as the series themselves).
  const requestSeries = new Map<string, (seconds: number) => void>();
  let slots = (): SlotsInUse => ({ general: 0, sse: 0 });
  registry.gauge(
    "gateway_slots_in_use",
    "Concurrency slots held (general: MAX_CONCURRENCY, sse: MAX_SSE); back to idle once requests end.",
    ["pool"],
    (gauge) => {
      const used = slots();
      gauge.set({ pool: "general" }, used.general);
      gauge.set({ pool: "sse" }, used.sse);
    },
  );
  return {
    registry,
    connections: connectionMetrics(registry),
    slotsFrom: (read) => slots = read,
    observeRequest(method, route, status, seconds) {
      const id = `${method} ${status} ${route}`;
      let observe = requestSeries.get(id);
      if (!observe) {
        const labels = { method, route, status: String(status) };
        const count = requests.bind(labels);
        const time = latency.bind(labels);
        observe = (s) => {
          count();
          time(s);
        };
        requestSeries.set(id, observe);
      }
      observe(seconds);
    },
    commandOutcome: (outcome) => commands.inc({ outcome }),
    ledgerAppended: (records) => ledger.inc({}, records),
    sseOpened: () => sse.inc(),
    sseClosed: () => sse.dec(),
    sseHubOpened: () => hubs.inc(),
    sseHubClosed: () => hubs.dec(),
    render: () => registry.render(),
  };
}

function connectionMetrics(registry: Registry): ConnEvents {
  // The front counts in memory shared with its thread; the counters take the increase since the last scrape.
  let read: (() => ConnCounts) | null = null;
  let last: ConnCounts = { open: 0, refused: { total: 0, per_ip: 0 }, timedOut: { header: 0, idle: 0 } };
  registry.gauge("gateway_connections_open", "Client TCP connections currently open.", [], (gauge) => {
    const now = read?.() ?? last;
    gauge.set({}, now.open);
    for (const reason of ["total", "per_ip"] as const) {
      refused.inc({ reason }, now.refused[reason] - last.refused[reason]);
    }
    for (const reason of ["header", "idle"] as const) {
      timedOut.inc({ reason }, now.timedOut[reason] - last.timedOut[reason]);
    }
    last = now;
  });
  const refused = registry.counter(
    "gateway_connections_refused_total",
    "Connections closed on accept because a cap was reached (total: MAX_CONNECTIONS, per_ip: _PER_IP).",
    ["reason"],
  );
  const timedOut = registry.counter(
    "gateway_connections_timed_out_total",
    "Connections closed by a deadline (header: HEADER_TIMEOUT_S, idle: IDLE_CONN_TIMEOUT_S).",
    ["reason"],
  );
  for (const reason of ["total", "per_ip"]) refused.inc({ reason }, 0);
  for (const reason of ["header", "idle"]) timedOut.inc({ reason }, 0);
  return { countsFrom: (counts) => read = counts };
}

export interface RunCounterOptions {
  /** Stop counting one status at this many runs (the gauge then reads `cap`). Default 10 000. */
  cap?: number;
  /** Reuse a count for this long, so frequent scrapes do not re-scan the store. Default 5 s. */
  ttlMs?: number;
}

/** A `countRuns` for `createGatewayMetrics` that pages through `RunStore.list` per status. */
export function runCounter(runs: RunStore, options: RunCounterOptions = {}): () => Promise<RunCounts> {
  const cap = options.cap ?? 10_000;
  const ttlMs = options.ttlMs ?? 5_000;
  let cached: { at: number; counts: Promise<RunCounts> } | null = null;
  const countStatus = async (status: RunStatus): Promise<number> => {
    let total = 0;
    let cursor: string | null = null;
    do {
      const page = await runs.list({ status, limit: Math.min(500, cap - total), cursor });
      total += page.items.length;
      cursor = page.next_cursor;
    } while (cursor !== null && total < cap);
    return total;
  };
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at >= ttlMs) {
      const counts = Promise.all(RUN_STATUSES.map(countStatus)).then((values) =>
        Object.fromEntries(RUN_STATUSES.map((s, i) => [s, values[i]])) as RunCounts
      );
      cached = { at: now, counts };
      counts.catch(() => (cached = null));
    }
    return cached.counts;
  };
}
