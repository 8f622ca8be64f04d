/**
 * The connection front: the public listener of `serve` (and of `runner --metrics-port`). `Deno.serve`
 * has no header or idle timeout and cannot take a listener of ours, so the front accepts every TCP
 * connection itself and relays it (conn_guard.ts) to the internal `Deno.serve`, bound to an ephemeral
 * loopback port. It refuses connections beyond a total and a per-address cap (accepted, then closed at
 * once), closes those that miss their header deadline or stay idle, and keeps accepting when the
 * process runs out of file descriptors (backs off instead of exiting).
 *
 * The front runs in a Worker (front_worker.ts), so relaying uses a second core while the main thread
 * runs the internal server and the app; the two share a `ConnTable` (client_addr.ts).
 */
import { type ResilientServer, serveResilient } from "../util/resilient_serve.ts";
import { type ConnCounts, ConnTable, withClientAddr } from "./client_addr.ts";
import type { GuardTimeouts } from "./conn_guard.ts";
import { startFrontWorker } from "./front_worker.ts";
import { logger } from "../util/log.ts";

const log = logger("http");

export type { ConnCounts, RefusalKind, TimeoutKind } from "./client_addr.ts";

/** How long relays may take to pass on the internal server's last bytes at shutdown. */
const SHUTDOWN_GRACE_MS = 2_000;

export interface FrontLimits extends GuardTimeouts {
  /** Open connections in total; 0 = no cap. */
  maxConnections: number;
  /** Open connections per client address; 0 = no cap. */
  maxPerIp: number;
}

/** Where the connection counts go (the metrics read them at scrape time). */
export interface ConnEvents {
  countsFrom(read: () => ConnCounts): void;
}

export interface GuardedServer extends ResilientServer {
  /** Open connections, refusals and timeouts so far. */
  counts(): ConnCounts;
}

/** Main thread → front worker. */
export type FrontRequest =
  | {
    type: "start";
    hostname: string;
    port: number;
    innerPort: number;
    table: SharedArrayBuffer;
    limits: FrontLimits;
  }
  | { type: "stop" }
  | { type: "drain"; graceMs: number };

/** Front worker → main thread. */
export type FrontReply =
  | { type: "listening"; addr: Deno.NetAddr }
  | { type: "error"; name: string; message: string }
  | { type: "stopped" }
  | { type: "drained" }
  | { type: "finished" }
  | { type: "failed"; message: string }
  | { type: "log"; message: string; fields: Record<string, unknown> };

/** The listen error as thrown in the worker (`AddrInUse`, …), so callers can tell them apart. */
function listenError(name: string, message: string): Error {
  const known = (Deno.errors as unknown as Record<string, (new (m: string) => Error) | undefined>)[name];
  return known ? new known(message) : new Error(message);
}

export async function serveGuarded(
  options: { hostname: string; port: number },
  handler: Deno.ServeHandler<Deno.NetAddr>,
  limits: FrontLimits,
  events?: ConnEvents,
): Promise<GuardedServer> {
  const table = new ConnTable();
  const inner = await serveResilient({ hostname: "127.0.0.1", port: 0 }, withClientAddr(table, handler));
  const worker = startFrontWorker();
  const waiting = new Map<FrontReply["type"], (msg: FrontReply) => void>();
  const next = <T extends FrontReply["type"]>(type: T) =>
    new Promise<Extract<FrontReply, { type: T }>>((resolve) =>
      waiting.set(type, resolve as (m: FrontReply) => void)
    );
  const accepting = Promise.withResolvers<void>();
  const crashed = Promise.withResolvers<never>();
  crashed.promise.catch(() => {});
  worker.onmessage = (event: MessageEvent<FrontReply>) => {
    const msg = event.data;
    if (msg.type === "log") log.error(msg.message, msg.fields);
    else if (msg.type === "finished") accepting.resolve();
    else if (msg.type === "failed") accepting.reject(new Error(`Cannot accept connections: ${msg.message}`));
    const resolve = waiting.get(msg.type);
    waiting.delete(msg.type);
    resolve?.(msg);
  };
  worker.onerror = (event) => {
    event.preventDefault();
    const err = new Error(`Cannot run the connection front: ${event.message}`);
    accepting.reject(err);
    crashed.reject(err);
  };
  const ask = <T extends FrontReply["type"]>(request: FrontRequest, type: T) => {
    const answer = next(type);
    worker.postMessage(request);
    return Promise.race([answer, crashed.promise]);
  };

  const request: FrontRequest = {
    type: "start",
    ...options,
    innerPort: inner.addr.port,
    table: table.buffer,
    limits,
  };
  const bound = await Promise.race([ask(request, "listening"), next("error"), crashed.promise]).catch((e) =>
    e
  );
  if (bound instanceof Error || bound.type === "error") {
    worker.terminate();
    await inner.shutdown();
    throw bound instanceof Error ? bound : listenError(bound.name, bound.message);
  }
  events?.countsFrom(() => table.counts());
  let stopped: Promise<void> | null = null;

  return {
    addr: bound.addr,
    finished: Promise.all([accepting.promise, inner.finished]).then(() => {}),
    counts: () => table.counts(),
    shutdown() {
      stopped ??= (async () => {
        try {
          // The front stops accepting and closes connections that never sent a byte; the internal server
          // finishes in-flight requests and closes its connections, which ends their relays once the last
          // bytes are through; what still hangs after a grace period is cut.
          // A crashed front has nothing left to stop: its failure is in `finished`.
          await ask({ type: "stop" }, "stopped").catch(() => {});
          await inner.shutdown();
          await ask({ type: "drain", graceMs: SHUTDOWN_GRACE_MS }, "drained").catch(() => {});
        } finally {
          worker.terminate();
        }
      })();
      return stopped;
    },
  };
}
