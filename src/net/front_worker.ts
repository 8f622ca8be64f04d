/**
 * The connection front's thread (started by front.ts): accepts on the public listener, refuses beyond
 * the caps, enforces the deadlines and relays bytes to the internal `Deno.serve` on the main thread.
 * Relaying costs about as much CPU as serving, so on its own thread it uses another core instead of
 * taking turns with the app on the main one. Everything the app must see synchronously (the client's
 * address, requests started, the connection counters) is in the shared `ConnTable`; messages carry only
 * start, stop, logs and their answers.
 *
 * The worker runs from a `blob:` URL holding the source text of `runFront`, `ConnTable`, `GuardedConn`
 * and the few helpers below, not from a module file: loading a module file in a Worker needs read
 * permission on it, which the gateway's permission set does not grant (nor should it) when it runs from
 * source, and a blob needs no `--include` in the compiled binary either. So those pieces use no other
 * module-level names (tests/net covers the worker end to end).
 */
import { errorText } from "../util/log.ts";
import { BACKOFF_MS, backoffMs, isOutOfDescriptors, OUT_OF_DESCRIPTORS_MESSAGE } from "../util/fd_backoff.ts";
import { ConnTable, type RefusalKind } from "./client_addr.ts";
import { GuardedConn, type RelayTarget } from "./conn_guard.ts";
import type { FrontLimits, FrontReply, FrontRequest } from "./front.ts";

interface Scope {
  onmessage: ((event: MessageEvent<FrontRequest>) => void) | null;
  postMessage(msg: FrontReply): void;
}

/** The worker's program: answers front.ts's requests (see `FrontRequest`). */
function runFront(scope: Scope): void {
  const reply = (msg: FrontReply) => scope.postMessage(msg);
  const isClosedListener = (err: unknown) =>
    err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted;

  const start = (listener: Deno.TcpListener, innerPort: number, table: ConnTable, limits: FrontLimits) => {
    const target: RelayTarget = {
      async connect() {
        const relay = await Deno.connect({ hostname: "127.0.0.1", port: innerPort });
        relay.setNoDelay(true);
        return relay;
      },
      table,
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
        table.refused(refusal); // counted before the close: a client that saw it closed sees the count
        conn.close();
        return;
      }
      conn.setNoDelay(true);
      const guarded = new GuardedConn(conn, target, limits);
      open.add(guarded);
      perIp.set(ip, fromIp + 1);
      table.opened();
      guarded.closed.then(() => {
        open.delete(guarded);
        const left = (perIp.get(ip) ?? 1) - 1;
        if (left) perIp.set(ip, left);
        else perIp.delete(ip);
        table.closed();
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
          reply({ type: "log", message, fields: { retry_in_ms: ms, error: errorText(err) } });
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
        if (kind) table.timedOut(kind);
      }
    }, sweepMs);
    const stopSweep = () => clearInterval(sweep);
    accepting.then(
      () => reply({ type: "finished" }),
      (err) => {
        stopSweep();
        reply({ type: "failed", message: errorText(err) });
      },
    );

    return {
      async stop() {
        stopping = true;
        try {
          listener.close();
        } catch { /* closed by a failure already */ }
        await accepting.catch(() => {});
        for (const conn of open) if (!conn.relaying) conn.close();
      },
      async drain(graceMs: number) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const drained = Promise.all([...open].map((c) => c.closed));
        await Promise.race([drained, new Promise((r) => timer = setTimeout(r, graceMs))]);
        clearTimeout(timer);
        stopSweep();
        for (const conn of open) conn.close();
        await Promise.all([...open].map((c) => c.closed));
      },
    };
  };

  let front: ReturnType<typeof start> | null = null;
  scope.onmessage = async (event) => {
    const msg = event.data;
    if (msg.type === "start") {
      let listener: Deno.TcpListener;
      try {
        listener = Deno.listen({ hostname: msg.hostname, port: msg.port, transport: "tcp" });
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        reply({ type: "error", name: e.name, message: e.message });
        return;
      }
      front = start(listener, msg.innerPort, new ConnTable(msg.table), msg.limits);
      reply({ type: "listening", addr: listener.addr as Deno.NetAddr });
    } else if (msg.type === "stop") {
      await front?.stop();
      reply({ type: "stopped" });
    } else if (msg.type === "drain") {
      await front?.drain(msg.graceMs);
      reply({ type: "drained" });
    }
  };
}

/** `const <name> = <source>;`: under the name its users know it by (also if a bundler renamed it). */
const declare = (value: { name: string }) => `const ${value.name} = ${value};`;

/** The worker's source text: the names `runFront` uses, then a call to it. */
const SOURCE = [
  `const BACKOFF_MS = ${JSON.stringify(BACKOFF_MS)};`,
  `const OUT_OF_DESCRIPTORS_MESSAGE = ${JSON.stringify(OUT_OF_DESCRIPTORS_MESSAGE)};`,
  ...[backoffMs, isOutOfDescriptors, errorText, ConnTable, GuardedConn].map(declare),
  `(${runFront})(self);`,
].join("\n");

/** Starts the front's thread (it waits for a `start` request). */
export function startFrontWorker(): Worker {
  const url = URL.createObjectURL(new Blob([SOURCE], { type: "application/javascript" }));
  try {
    return new Worker(url, { type: "module", name: "connection front" });
  } finally {
    URL.revokeObjectURL(url);
  }
}
