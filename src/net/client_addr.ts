/**
 * The real client address behind the connection front, and what the front and the internal server tell
 * each other about a connection, in memory shared by the two threads (the front runs in a Worker,
 * front_worker.ts; the internal `Deno.serve` and the app on the main thread).
 *
 * The front relays each client connection to the internal server over loopback, so the handler's
 * `info.remoteAddr` would be the front's own socket. The front writes the client's address under the
 * relay connection's local port (the port the internal server sees as the peer's) before it sends the
 * relay its first byte, so the table is written before the internal server can read a request from it:
 * `withClientAddr` reads it synchronously and swaps in the client's address before the app runs, so
 * lockout, audit and rate limits (all through `clientAddress` in security/lockout.ts) key on the real
 * peer. A message between the threads could arrive after the request; shared memory cannot.
 *
 * Back the other way, the handler counts the requests started and running on each relay and when the
 * last one ended: the front's header deadline is met once a request starts, and idle time does not count
 * while a handler runs. The connection counters for /metrics live in the same memory.
 */

export type RefusalKind = "total" | "per_ip";
export type TimeoutKind = "header" | "idle";

/** The connection counts for /metrics. */
export interface ConnCounts {
  open: number;
  refused: Record<RefusalKind, number>;
  timedOut: Record<TimeoutKind, number>;
}

/**
 * The shared table. Self-contained (no module-level names used), as the front's thread runs its source
 * text (front_worker.ts).
 */
export class ConnTable {
  /** Int32 fields per relay port. */
  static readonly FIELDS = 8;
  /** Nonzero while a relay uses the port: a generation, new per relay connection. */
  static readonly F_GEN = 0;
  static readonly F_RUNNING = 1;
  static readonly F_STARTED = 2;
  /** `Date.now()` wrapped to 32 bits (see `wrapped`) when the last request's handler returned. */
  static readonly F_LAST_END = 3;
  static readonly F_CLIENT_PORT = 4;
  /** Bytes per relay port for the client's host name: a length byte, then UTF-8 (IPv6 with a zone fits). */
  static readonly ADDR_BYTES = 64;
  static readonly PORTS = 65_536;
  /** Counters: open connections, then refusals and timeouts by kind. */
  static readonly C_OPEN = 0;
  static readonly C_REFUSED = { total: 1, per_ip: 2 };
  static readonly C_TIMED_OUT = { header: 3, idle: 4 };
  static readonly COUNTERS = 5;
  /** Size of the shared table (pages never touched are never allocated by the OS). */
  static readonly BYTES = ConnTable.PORTS * ConnTable.FIELDS * 4 + ConnTable.COUNTERS * 4 +
    ConnTable.PORTS * ConnTable.ADDR_BYTES;

  /** Milliseconds wrapped to an Int32; differences of two are right for spans under 24 days. */
  static wrapped(ms: number): number {
    return ms | 0;
  }

  /** Pass it to the other thread and build a `ConnTable` on it there. */
  readonly buffer: SharedArrayBuffer;
  readonly #fields: Int32Array;
  readonly #counters: Int32Array;
  readonly #addrs: Uint8Array;
  readonly #encoder = new TextEncoder();
  readonly #decoder = new TextDecoder();
  #nextGen = 1;
  /** Main thread: addresses decoded, by port, valid while the generation matches. */
  readonly #decoded = new Map<number, { gen: number; remote: Deno.NetAddr }>();

  constructor(buffer = new SharedArrayBuffer(ConnTable.BYTES)) {
    const { PORTS, FIELDS, COUNTERS, ADDR_BYTES } = ConnTable;
    this.buffer = buffer;
    this.#fields = new Int32Array(buffer, 0, PORTS * FIELDS);
    this.#counters = new Int32Array(buffer, PORTS * FIELDS * 4, COUNTERS);
    this.#addrs = new Uint8Array(buffer, (PORTS * FIELDS + COUNTERS) * 4, PORTS * ADDR_BYTES);
  }

  #field(relayPort: number, field: number): number {
    return Atomics.load(this.#fields, relayPort * ConnTable.FIELDS + field);
  }

  // The front's side (the worker).

  /** Publishes a relay connection's client address; call before sending the relay anything. */
  register(relayPort: number, remote: Deno.NetAddr, now = Date.now()): void {
    const { FIELDS, ADDR_BYTES } = ConnTable;
    const at = relayPort * FIELDS;
    const addr = this.#addrs.subarray(relayPort * ADDR_BYTES + 1, (relayPort + 1) * ADDR_BYTES);
    this.#addrs[relayPort * ADDR_BYTES] = this.#encoder.encodeInto(remote.hostname, addr).written;
    Atomics.store(this.#fields, at + ConnTable.F_RUNNING, 0);
    Atomics.store(this.#fields, at + ConnTable.F_STARTED, 0);
    Atomics.store(this.#fields, at + ConnTable.F_LAST_END, ConnTable.wrapped(now));
    Atomics.store(this.#fields, at + ConnTable.F_CLIENT_PORT, remote.port);
    // Last: the generation makes the entry visible (Atomics order the plain writes before it).
    Atomics.store(this.#fields, at + ConnTable.F_GEN, this.#nextGen);
    this.#nextGen = this.#nextGen >= 0x7fff_ffff ? 1 : this.#nextGen + 1;
  }

  unregister(relayPort: number): void {
    Atomics.store(this.#fields, relayPort * ConnTable.FIELDS + ConnTable.F_GEN, 0);
  }

  /** Requests started on the relay so far (a change means a request's headers arrived). */
  started(relayPort: number): number {
    return this.#field(relayPort, ConnTable.F_STARTED);
  }

  /** Requests whose handler runs now. */
  running(relayPort: number): number {
    return Math.max(0, this.#field(relayPort, ConnTable.F_RUNNING));
  }

  /** When the relay's last request ended (the registration time before any), as `Date.now()` time. */
  lastEnded(relayPort: number, now: number): number {
    return now - ((ConnTable.wrapped(now) - this.#field(relayPort, ConnTable.F_LAST_END)) | 0);
  }

  opened(): void {
    Atomics.add(this.#counters, ConnTable.C_OPEN, 1);
  }

  closed(): void {
    Atomics.sub(this.#counters, ConnTable.C_OPEN, 1);
  }

  refused(kind: RefusalKind): void {
    Atomics.add(this.#counters, ConnTable.C_REFUSED[kind], 1);
  }

  timedOut(kind: TimeoutKind): void {
    Atomics.add(this.#counters, ConnTable.C_TIMED_OUT[kind], 1);
  }

  // The internal server's side (the main thread).

  /** The client behind a relay connection, or undefined for a connection not made by the front. */
  lookup(relayPort: number): { gen: number; remote: Deno.NetAddr } | undefined {
    const gen = this.#field(relayPort, ConnTable.F_GEN);
    if (gen === 0) return undefined;
    const known = this.#decoded.get(relayPort);
    if (known?.gen === gen) return known;
    const start = relayPort * ConnTable.ADDR_BYTES;
    const hostname = this.#decoder.decode(this.#addrs.subarray(start + 1, start + 1 + this.#addrs[start]));
    const port = this.#field(relayPort, ConnTable.F_CLIENT_PORT);
    const entry = { gen, remote: { transport: "tcp" as const, hostname, port } };
    this.#decoded.set(relayPort, entry);
    return entry;
  }

  requestStarted(relayPort: number): void {
    const at = relayPort * ConnTable.FIELDS;
    Atomics.add(this.#fields, at + ConnTable.F_RUNNING, 1);
    Atomics.add(this.#fields, at + ConnTable.F_STARTED, 1);
  }

  /** Counts the request ended, unless its relay closed and the port went to another one meanwhile. */
  requestEnded(relayPort: number, gen: number): void {
    const at = relayPort * ConnTable.FIELDS;
    if (Atomics.load(this.#fields, at + ConnTable.F_GEN) !== gen) return;
    Atomics.store(this.#fields, at + ConnTable.F_LAST_END, ConnTable.wrapped(Date.now()));
    Atomics.sub(this.#fields, at + ConnTable.F_RUNNING, 1);
  }

  counts(): ConnCounts {
    const c = (i: number) => Atomics.load(this.#counters, i);
    const { C_REFUSED, C_TIMED_OUT } = ConnTable;
    return {
      open: c(ConnTable.C_OPEN),
      refused: { total: c(C_REFUSED.total), per_ip: c(C_REFUSED.per_ip) },
      timedOut: { header: c(C_TIMED_OUT.header), idle: c(C_TIMED_OUT.idle) },
    };
  }
}

const notThroughFront = () =>
  Response.json({ detail: "Cannot serve request: connection did not come through the gateway listener" }, {
    status: 421,
  });

/**
 * Wraps the app's handler for the internal server: the client's address replaces the relay's, and the
 * table learns when a request runs (its header deadline is met; idle time does not count while the
 * handler works). A connection made to the internal port directly, bypassing the front, is refused (421).
 */
export function withClientAddr(
  table: ConnTable,
  handler: Deno.ServeHandler<Deno.NetAddr>,
): Deno.ServeHandler<Deno.NetAddr> {
  return async (req, info) => {
    const relayPort = info.remoteAddr.port;
    const conn = table.lookup(relayPort);
    if (!conn) return notThroughFront();
    table.requestStarted(relayPort);
    try {
      // A plain object: Deno's ServeHandlerInfo keeps its state in private fields, so it cannot be spread.
      return await handler(req, {
        remoteAddr: conn.remote,
        get completed() {
          return info.completed;
        },
      });
    } finally {
      table.requestEnded(relayPort, conn.gen);
    }
  };
}
