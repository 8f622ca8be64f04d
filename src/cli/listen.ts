/** Starts an HTTP listener for `serve` and `runner --metrics-port`, naming the port when it is taken. */

export interface Listening {
  server: Deno.HttpServer<Deno.NetAddr>;
  /** `http://host:port` as bound (the real port when 0 was asked for). */
  url: string;
}

export async function listen(
  host: string,
  port: number,
  handler: Deno.ServeHandler<Deno.NetAddr>,
  portSetting: string,
): Promise<Listening> {
  const listening = Promise.withResolvers<Deno.NetAddr>();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({ hostname: host, port, onListen: (addr) => listening.resolve(addr) }, handler);
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) {
      throw new Error(`Cannot listen on ${host}:${port}: the port is already in use (change ${portSetting})`);
    }
    throw err;
  }
  const addr = await listening.promise;
  const shown = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return { server, url: `http://${shown}:${addr.port}` };
}
