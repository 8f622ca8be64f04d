/**
 * `Deno.serve` that survives running out of file descriptors. When `accept()` fails with EMFILE
 * (too many open connections for the process's limit) Deno.serve stops and its `finished` rejects;
 * this wrapper logs it, backs off (doubling, up to 2 s) and listens again on the same address,
 * instead of letting the process exit. Connections already open keep being served meanwhile.
 */
import { errorText, logger } from "../util/log.ts";
import { backoffMs, isOutOfDescriptors, OUT_OF_DESCRIPTORS_MESSAGE } from "./fd_backoff.ts";

const log = logger("http");

export interface ResilientServer {
  /** The bound address (the first bind; re-binds reuse its port). */
  addr: Deno.NetAddr;
  /** Resolves when shut down; rejects only on a failure that is not a descriptor shortage. */
  finished: Promise<void>;
  shutdown(): Promise<void>;
}

export async function serveResilient(
  options: { hostname: string; port: number },
  handler: Deno.ServeHandler<Deno.NetAddr>,
): Promise<ResilientServer> {
  let stopping = false;
  const listen = async (port: number) => {
    const bound = Promise.withResolvers<Deno.NetAddr>();
    const server = Deno.serve(
      { hostname: options.hostname, port, onListen: (a) => bound.resolve(a) },
      handler,
    );
    server.finished.catch((err) => bound.reject(err));
    return { server, addr: await bound.promise };
  };
  const first = await listen(options.port);
  const addr = first.addr;
  let current = first.server;
  const finished = (async () => {
    let attempt = 0;
    for (;;) {
      try {
        await current.finished;
        return;
      } catch (err) {
        if (stopping || !isOutOfDescriptors(err)) throw err;
        const ms = backoffMs(attempt++);
        log.error(OUT_OF_DESCRIPTORS_MESSAGE, {
          retry_in_ms: ms,
          error: errorText(err),
        });
        await new Promise((r) => setTimeout(r, ms));
        try {
          current = (await listen(addr.port)).server;
          attempt = 0;
        } catch (listenErr) {
          if (!isOutOfDescriptors(listenErr)) throw listenErr;
        }
      }
    }
  })();
  return {
    addr,
    finished,
    async shutdown() {
      stopping = true;
      await current.shutdown();
    },
  };
}
