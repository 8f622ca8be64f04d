/**
 * The connection front: the public listener of `serve` (and of `runner --metrics-port`). `Deno.serve`
 * has no header or idle timeout and cannot take a listener of ours, so the front accepts every TCP
 * connection itself and relays it (conn_guard.ts) to the internal `Deno.serve`, bound to an ephemeral
 * loopback port. It refuses connections beyond a total and a per-address cap (accepted, then closed at
 * once), closes those that miss their header deadline or stay idle, and keeps accepting when the
 * process runs out of file descriptors (backs off instead of exiting).
 */
import { errorText, logger } from "../util/log.ts";
import { backoffMs, isOutOfDescriptors, OUT_OF_DESCRIPTORS_MESSAGE } from "../util/fd_backoff.ts";
import { type ResilientServer, serveResilient } from "../util/resilient_serve.ts";
import { ConnTable, withClientAddr } from "./client_addr.ts";
import { GuardedConn, type GuardTimeouts, type RelayTarget, type TimeoutKind } from "./conn_guard.ts";

const log = logger("http");
/** How long relays may take to pass on the internal server's last bytes at shutdown. */
const SHUTDOWN_GRACE_MS = 2_000;

export interface FrontLimits extends GuardTimeouts {
  /** Open connections in total; 0 = no cap. */
  maxConnections: number;
  /** Open connections per client address; 0 = no cap. */
  maxPerIp: number;
}

export type RefusalKind = "total" | "per_ip";

/** What the front reports, for the connection metrics. */
export interface ConnEvents {
  opened(): void;
  closed(): void;
  refused(kind: RefusalKind): void;
  timedOut(kind: TimeoutKind): void;
}

export const NO_CONN_EVENTS: ConnEvents = { opened() {}, closed() {}, refused() {}, timedOut() {} };

const isClosedListener = (err: unknown) =>
  err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted;

export async function serveGuarded(
  options: { hostname: string; port: number },
  handler: Deno.ServeHandler<Deno.NetAddr>,
  limits: FrontLimits,
  events: ConnEvents = NO_CONN_EVENTS,
): Promise<ResilientServer> {
  const table = new ConnTable();
  const inner = await serveResilient({ hostname: "127.0.0.1", port: 0 }, withClientAddr(table, handler));
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname: options.hostname, port: options.port, transport: "tcp" });
  } catch (err) {
    await inner.shutdown();
    throw err;
  }
  const target: RelayTarget = {
    async connect() {
      const relay = await Deno.connect({ hostname: "127.0.0.1", port: inner.addr.port });
      relay.setNoDelay(true);
      return relay;
    },
    register: (port, conn) => table.add(port, conn),
    unregister: (port) => table.delete(port),
  };
  const open = new Set<GuardedConn>();
  const perIp = new Map<string, number>();
  let stopping = false;

  const admit = (conn: Deno.TcpConn) => {
    const ip = (conn.remoteAddr as Deno.NetAddr).hostname;
    const fromIp = perIp.get(ip) ?? 0;
    const refusal: RefusalKind | null = limits.maxConnections && open.size >= limits.maxConnections
      ? "total"
      : limits.maxPerIp && fromIp >= limits.maxPerIp
      ? "per_ip"
      : null;
    if (refusal) {
      conn.close();
      events.refused(refusal);
      return;
    }
    conn.setNoDelay(true);
    const guarded = new GuardedConn(conn, target, limits);
    open.add(guarded);
    perIp.set(ip, fromIp + 1);
    events.opened();
    guarded.closed.then(() => {
      open.delete(guarded);
      const left = (perIp.get(ip) ?? 1) - 1;
      if (left) perIp.set(ip, left);
      else perIp.delete(ip);
      events.closed();
    });
  };

  const accepting = (async () => {
    let attempt = 0;
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (isClosedListener(err)) {
          if (stopping) return;
          throw err;
        }
        // Anything else (no descriptors left, a connection reset before it was accepted) passes.
        const ms = backoffMs(attempt++);
        const message = isOutOfDescriptors(err) ? OUT_OF_DESCRIPTORS_MESSAGE : "cannot accept a connection";
        log.error(message, { retry_in_ms: ms, error: errorText(err) });
        await new Promise((r) => setTimeout(r, ms));
        continue;
      }
      attempt = 0;
      admit(conn);
    }
  })();

  // One sweep for all connections, a tenth of the shortest deadline apart (50 ms .. 1 s).
  const sweepMs = Math.min(1_000, Math.max(50, Math.min(limits.headerMs, limits.idleMs) / 10));
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const conn of open) {
      const kind = conn.check(now);
      if (kind) events.timedOut(kind);
    }
  }, sweepMs);
  const stopSweep = () => clearInterval(sweep);
  accepting.catch(stopSweep);

  return {
    addr: listener.addr as Deno.NetAddr,
    finished: Promise.all([accepting, inner.finished]).then(() => {}),
    async shutdown() {
      stopping = true;
      listener.close();
      await accepting.catch(() => {});
      for (const conn of open) if (!conn.relaying) conn.close();
      // The internal server finishes in-flight requests and closes its connections, which ends their
      // relays once the last bytes are through; what still hangs after a grace period is cut.
      await inner.shutdown();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const drained = Promise.all([...open].map((c) => c.closed));
      await Promise.race([drained, new Promise((r) => timer = setTimeout(r, SHUTDOWN_GRACE_MS))]);
      clearTimeout(timer);
      stopSweep();
      for (const conn of open) conn.close();
      await Promise.all([...open].map((c) => c.closed));
    },
  };
}
