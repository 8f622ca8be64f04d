/**
 * One client connection accepted by the front, relayed byte for byte to the internal server, with two
 * deadlines the internal `Deno.serve` does not have:
 * - header: a request's headers must be complete within `headerMs` of the connection opening (or of the
 *   first byte of a later request on a kept-alive connection). "Complete" is learnt from the internal
 *   server itself: its handler runs (`requestStarted`), so no HTTP parsing happens here.
 * - idle: no byte in either direction for `idleMs` while no handler runs. SSE streams send keep-alive
 *   comments (every `heartbeat_s`, at most 60 s), so they stay open.
 * The relay connection is opened on the client's first byte, so a silent connection holds one descriptor.
 * `check(now)` is called by the front's sweep; the connection closes itself when a deadline passed.
 */
import type { RelayedConn } from "./client_addr.ts";

export type TimeoutKind = "header" | "idle";

export interface GuardTimeouts {
  headerMs: number;
  idleMs: number;
}

export interface RelayTarget {
  /** Opens the relay connection to the internal server. */
  connect(): Promise<Deno.TcpConn>;
  /** Makes the relay's local port known to the internal handler (see client_addr.ts). */
  register(relayPort: number, conn: RelayedConn): void;
  unregister(relayPort: number): void;
}

/**
 * Read buffers start small and double whenever a read fills one: most connections carry small
 * requests and SSE frames, and a fresh 16 KiB buffer per direction and connection cost more CPU
 * (page faults, GC of external memory) than the rest of accepting 1,000 SSE connections at once.
 */
const FIRST_BUFFER_BYTES = 1024;
const MAX_BUFFER_BYTES = 64 * 1024;

/** The buffer for the next read: twice as large when the last read filled `buf` (up to the maximum). */
const nextBuffer = (buf: Uint8Array<ArrayBuffer>, n: number): Uint8Array<ArrayBuffer> =>
  n === buf.length && n < MAX_BUFFER_BYTES ? new Uint8Array(n * 2) : buf;

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

export class GuardedConn implements RelayedConn {
  readonly remote: Deno.NetAddr;
  /** Resolves once both sockets are closed. */
  readonly closed: Promise<void>;
  readonly #client: Deno.Conn;
  readonly #target: RelayTarget;
  readonly #timeouts: GuardTimeouts;
  #relay: Deno.TcpConn | null = null;
  #relayPort = 0;
  #lastActivity: number;
  /** When the current request's headers began (null: none pending). */
  #headerSince: number | null;
  #running = 0;
  #done = false;

  constructor(client: Deno.Conn, target: RelayTarget, timeouts: GuardTimeouts, now = Date.now()) {
    this.#client = client;
    this.remote = client.remoteAddr as Deno.NetAddr;
    this.#target = target;
    this.#timeouts = timeouts;
    this.#lastActivity = now;
    this.#headerSince = now;
    this.closed = this.#clientToRelay();
  }

  /** True once the relay to the internal server is open (the client sent something). */
  get relaying(): boolean {
    return this.#relay !== null;
  }

  requestStarted(): void {
    this.#running++;
    this.#headerSince = null;
  }

  requestEnded(): void {
    this.#running--;
    this.#lastActivity = Date.now();
  }

  /** Closes the connection when a deadline passed; returns which one, or null. */
  check(now: number): TimeoutKind | null {
    if (this.#done) return null;
    let kind: TimeoutKind | null = null;
    if (this.#headerSince !== null && now - this.#headerSince >= this.#timeouts.headerMs) kind = "header";
    else if (this.#running === 0 && now - this.#lastActivity >= this.#timeouts.idleMs) kind = "idle";
    if (kind) this.close();
    return kind;
  }

  close(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#relay) this.#target.unregister(this.#relayPort);
    for (const c of [this.#client, this.#relay]) {
      try {
        c?.close();
      } catch { /* already closed */ }
    }
  }

  async #clientToRelay(): Promise<void> {
    let buf = new Uint8Array(FIRST_BUFFER_BYTES);
    let back: Promise<void> | null = null;
    try {
      for (;;) {
        const n = await this.#client.read(buf);
        if (n === null || this.#done) break;
        this.#lastActivity = Date.now();
        if (this.#running === 0 && this.#headerSince === null) this.#headerSince = this.#lastActivity;
        if (!this.#relay) {
          const relay = await this.#target.connect();
          if (this.#done) {
            relay.close(); // closed by a deadline or shutdown while connecting
            break;
          }
          this.#relay = relay;
          this.#relayPort = (this.#relay.localAddr as Deno.NetAddr).port;
          this.#target.register(this.#relayPort, this);
          back = this.#relayToClient(this.#relay);
        }
        await writeAll(this.#relay, buf.subarray(0, n));
        this.#lastActivity = Date.now();
        buf = nextBuffer(buf, n);
      }
      // The client finished sending: let the internal server see it and finish answering.
      if (back && !this.#done) await this.#relay!.closeWrite();
    } catch { /* reset by the peer, or closed by a deadline or shutdown */ }
    if (back) await back;
    this.close();
  }

  async #relayToClient(relay: Deno.TcpConn): Promise<void> {
    let buf = new Uint8Array(FIRST_BUFFER_BYTES);
    try {
      for (;;) {
        const n = await relay.read(buf);
        if (n === null || this.#done) break;
        this.#lastActivity = Date.now();
        await writeAll(this.#client, buf.subarray(0, n));
        this.#lastActivity = Date.now();
        buf = nextBuffer(buf, n);
      }
    } catch { /* reset by the peer, or closed by a deadline or shutdown */ }
    this.close();
  }
}
