/** Starts an HTTP listener for `serve` and `runner --metrics-port`, naming the port when it is taken. */
import { type ResilientServer, serveResilient } from "../util/resilient_serve.ts";
import { bindError } from "../security/preflight.ts";

export interface Listening {
  server: ResilientServer;
  /** `http://host:port` as bound (the real port when 0 was asked for). */
  url: string;
}

export async function listen(
  host: string,
  port: number,
  handler: Deno.ServeHandler<Deno.NetAddr>,
  portSetting: string,
): Promise<Listening> {
  let server: ResilientServer;
  try {
    server = await serveResilient({ hostname: host, port }, handler);
  } catch (err) {
    throw bindError(err, host, port, portSetting);
  }
  const shown = server.addr.hostname.includes(":") ? `[${server.addr.hostname}]` : server.addr.hostname;
  return { server, url: `http://${shown}:${server.addr.port}` };
}
