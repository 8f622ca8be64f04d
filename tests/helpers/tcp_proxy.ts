/**
 * A loopback TCP proxy that can drop every open connection on demand: a real network cut between a
 * client (e.g. a browser's EventSource) and the gateway, after which the client must reconnect.
 */
export interface TcpProxy {
  url: string;
  /** Closes every open connection (both sides); new connections are accepted as before. */
  dropAll(): void;
  close(): Promise<void>;
}

export function startTcpProxy(upstreamPort: number): TcpProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const closeQuietly = (c: Deno.Conn) => {
    open.delete(c);
    try {
      c.close();
    } catch { /* already closed */ }
  };
  const pumps: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const client of listener) {
      const upstream = await Deno.connect({ hostname: "127.0.0.1", port: upstreamPort }).catch(() => null);
      if (!upstream) {
        closeQuietly(client);
        continue;
      }
      open.add(client);
      open.add(upstream);
      const pipe = (from: Deno.Conn, to: Deno.Conn) =>
        from.readable.pipeTo(to.writable).catch(() => {}).finally(() => {
          closeQuietly(from);
          closeQuietly(to);
        });
      pumps.push(pipe(client, upstream), pipe(upstream, client));
    }
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    dropAll() {
      for (const c of [...open]) closeQuietly(c);
    },
    async close() {
      listener.close();
      await accepting;
      for (const c of [...open]) closeQuietly(c);
      await Promise.all(pumps);
    },
  };
}
