/**
 * One client connection accepted by the front, relayed byte for byte to the internal server, with two
 * deadlines the internal `Deno.serve` does not have:
 * - header: a request's headers must be complete within `headerMs` of the connection opening (or of the
 *   first byte of a later request on a kept-alive connection). "Complete" is learnt from the internal
 *   server itself: its handler counts the requests it started in the shared table (client_addr.ts), so
 *   no HTTP parsing happens here.
 * - idle: no byte in either direction for `idleMs` while no handler runs. SSE streams send keep-alive
 *   comments (every `heartbeat_s`, at most 60 s), so they stay open.
 * The relay connection is opened on the client's first byte, so a silent connection holds one descriptor.
 * `check(now)` is called by the front's sweep; the connection closes itself when a deadline passed.
 */
import type { ConnTable, TimeoutKind } from "./client_addr.ts";

export interface GuardTimeouts {
  headerMs: number;
  idleMs: number;
}

export interface RelayTarget {
  /** Opens the relay connection to the internal server. */
  connect(): Promise<Deno.TcpConn>;
  /** Where the relay's client address is published and its requests are counted. */
  table: ConnTable;
}

/** Self-contained (no module-level names used), as the front's thread runs its source text (front_worker.ts). */
export class GuardedConn {
  /**
   * Read buffers start small and double whenever a read fills one: most connections carry small
   * requests and SSE frames, and a fresh 16 KiB buffer per direction and connection cost more CPU
   * (page faults, GC of external memory) than the rest of accepting 1,000 SSE connections at once.
   */
  static readonly FIRST_BUFFER_BYTES = 1024;
  static readonly MAX_BUFFER_BYTES = 64 * 1024;

  /** The buffer for the next read: twice as large when the last read filled `buf` (up to the maximum). */
  static #nextBuffer(buf: Uint8Array<ArrayBuffer>, n: number): Uint8Array<ArrayBuffer> {
    return n === buf.length && n < GuardedConn.MAX_BUFFER_BYTES ? new Uint8Array(n * 2) : buf;
  }

  static async #writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
  }

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
  /** The relay's count of started requests when last looked at. */
  #startedSeen = 0;
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

  /** Takes in what the internal server did on the relay: a request started (header met), ran or ended. */
  #sync(now: number): void {
    if (!this.#relay) return;
    const table = this.#target.table;
    const started = table.started(this.#relayPort);
    if (started !== this.#startedSeen) {
      this.#startedSeen = started;
      this.#headerSince = null;
    }
    this.#running = table.running(this.#relayPort);
    this.#lastActivity = Math.max(this.#lastActivity, table.lastEnded(this.#relayPort, now));
  }

  /** Closes the connection when a deadline passed; returns which one, or null. */
  check(now: number): TimeoutKind | null {
    if (this.#done) return null;
    this.#sync(now);
    let kind: TimeoutKind | null = null;
    if (this.#headerSince !== null && now - this.#headerSince >= this.#timeouts.headerMs) kind = "header";
    else if (this.#running === 0 && now - this.#lastActivity >= this.#timeouts.idleMs) kind = "idle";
    if (kind) this.close();
    return kind;
  }

  close(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#relay) this.#target.table.unregister(this.#relayPort);
    for (const c of [this.#client, this.#relay]) {
      try {
        c?.close();
      } catch { /* already closed */ }
    }
  }

  async #clientToRelay(): Promise<void> {
    let buf = new Uint8Array(GuardedConn.FIRST_BUFFER_BYTES);
    let back: Promise<void> | null = null;
    try {
      for (;;) {
        const n = await this.#client.read(buf);
        if (n === null || this.#done) break;
        this.#lastActivity = Date.now();
        this.#sync(this.#lastActivity);
        if (this.#running === 0 && this.#headerSince === null) this.#headerSince = this.#lastActivity;
        if (!this.#relay) {
          const relay = await this.#target.connect();
          if (this.#done) {
            relay.close(); // closed by a deadline or shutdown while connecting
            break;
          }
          this.#relay = relay;
          this.#relayPort = (this.#relay.localAddr as Deno.NetAddr).port;
          this.#target.table.register(this.#relayPort, this.remote);
          back = this.#relayToClient(this.#relay);
        }
        await GuardedConn.#writeAll(this.#relay, buf.subarray(0, n));
        this.#lastActivity = Date.now();
        buf = GuardedConn.#nextBuffer(buf, n);
      }
      // The client finished sending: let the internal server see it and finish answering.
      if (back && !this.#done) await this.#relay!.closeWrite();
    } catch { /* reset by the peer, or closed by a deadline or shutdown */ }
    if (back) await back;
    this.close();
  }

  async #relayToClient(relay: Deno.TcpConn): Promise<void> {
    let buf = new Uint8Array(GuardedConn.FIRST_BUFFER_BYTES);
    try {
      for (;;) {
        const n = await relay.read(buf);
        if (n === null || this.#done) break;
        this.#lastActivity = Date.now();
        await GuardedConn.#writeAll(this.#client, buf.subarray(0, n));
        this.#lastActivity = Date.now();
        buf = GuardedConn.#nextBuffer(buf, n);
      }
    } catch { /* reset by the peer, or closed by a deadline or shutdown */ }
    this.close();
  }
}
