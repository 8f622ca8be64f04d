/** Starts an HTTP listener for `serve` and `runner --metrics-port`, naming the port when it is taken. */
import type { Config } from "../config/config.ts";
import { type ConnEvents, type FrontLimits, serveGuarded } from "../net/front.ts";
import type { ResilientServer } from "../util/resilient_serve.ts";
import { bindError } from "../security/preflight.ts";

export interface Listening {
  server: ResilientServer;
  /** `http://host:port` as bound (the real port when 0 was asked for). */
  url: string;
}

/** The connection front's deadlines and caps from the configuration. */
export function frontLimits(config: Config): FrontLimits {
  return {
    headerMs: config.headerTimeoutS * 1000,
    idleMs: config.idleConnTimeoutS * 1000,
    maxConnections: config.maxConnections,
    maxPerIp: config.maxConnectionsPerIp,
  };
}

export async function listen(
  config: Config,
  port: number,
  handler: Deno.ServeHandler<Deno.NetAddr>,
  portSetting: string,
  events: ConnEvents,
): Promise<Listening> {
  const host = config.host;
  let server: ResilientServer;
  try {
    server = await serveGuarded({ hostname: host, port }, handler, frontLimits(config), events);
  } catch (err) {
    throw bindError(err, host, port, portSetting);
  }
  const shown = server.addr.hostname.includes(":") ? `[${server.addr.hostname}]` : server.addr.hostname;
  return { server, url: `http://${shown}:${server.addr.port}` };
}
