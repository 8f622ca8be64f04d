/**
 * The real client address behind the connection front. The front relays each client connection to the
 * internal `Deno.serve` over loopback, so the handler's `info.remoteAddr` would be the front's own socket.
 * The front registers every relay connection here under its local port (the port the internal server
 * sees as the peer's); `withClientAddr` swaps in the client's address before the app runs, so lockout,
 * audit and rate limits (all through `clientAddress` in security/lockout.ts) key on the real peer.
 */

/** What the handler reports back to the connection it was called for. */
export interface RelayedConn {
  /** The client's address as the front accepted it. */
  readonly remote: Deno.NetAddr;
  /** The internal server parsed a request's headers and runs the handler. */
  requestStarted(): void;
  /** The handler returned (its response, or a stream of it, is on its way). */
  requestEnded(): void;
}

export class ConnTable {
  readonly #byPort = new Map<number, RelayedConn>();

  add(relayPort: number, conn: RelayedConn): void {
    this.#byPort.set(relayPort, conn);
  }

  delete(relayPort: number): void {
    this.#byPort.delete(relayPort);
  }

  get(relayPort: number): RelayedConn | undefined {
    return this.#byPort.get(relayPort);
  }
}

const notThroughFront = () =>
  Response.json({ detail: "Cannot serve request: connection did not come through the gateway listener" }, {
    status: 421,
  });

/**
 * Wraps the app's handler for the internal server: the client's address replaces the relay's, and the
 * connection learns when a request runs (its header deadline is met; idle time does not count while the
 * handler works). A connection made to the internal port directly, bypassing the front, is refused (421).
 */
export function withClientAddr(
  table: ConnTable,
  handler: Deno.ServeHandler<Deno.NetAddr>,
): Deno.ServeHandler<Deno.NetAddr> {
  return async (req, info) => {
    const conn = table.get(info.remoteAddr.port);
    if (!conn) return notThroughFront();
    conn.requestStarted();
    try {
      // A plain object: Deno's ServeHandlerInfo keeps its state in private fields, so it cannot be spread.
      return await handler(req, {
        remoteAddr: conn.remote,
        get completed() {
          return info.completed;
        },
      });
    } finally {
      conn.requestEnded();
    }
  };
}
