/**
 * Concurrency and time limits. Ledger streams (paths ending `/ledger/stream`) take a slot of the SSE pool
 * and of their token's SSE pool and have no timeout; every other request takes a slot of the general pool
 * and, except uploads, gets `requestTimeoutS` to produce its response. A slot is held until the response body has been
 * sent or cancelled (and, after a timeout, until the abandoned handler has finished).
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Config } from "../config/config.ts";
import { KeyedPool, onBodyEnd, once, Pool } from "./limits.ts";
import { timedOut, tooManyConcurrent } from "./responses.ts";
import { isStreamPath, uploadKind } from "./routes.ts";
import { type SecurityEnv, securityState } from "./state.ts";

export interface ThrottlePools {
  general: Pool;
  sse: Pool;
  ssePerToken: KeyedPool;
}

export function throttlePools(config: Config): ThrottlePools {
  return {
    general: new Pool(config.maxConcurrency),
    sse: new Pool(config.maxSse),
    ssePerToken: new KeyedPool(config.maxSsePerToken),
  };
}

/**
 * Calls `release` once the response has been delivered: when its body ends or is cancelled, when Deno
 * reports the exchange complete (`info.completed`, which also covers bodies the server never reads),
 * or at once for HEAD: Hono drops that body unread, so it is cancelled here to stop its producer
 * (e.g. a ledger stream's heartbeat) from running on.
 */
function releaseWhenDelivered(c: Context<SecurityEnv>, release: () => void): void {
  if (c.req.method === "HEAD") {
    c.res.body?.cancel().catch(() => {});
    return release();
  }
  c.env?.info?.completed?.then(release, release);
  c.res = onBodyEnd(c.res, release);
}

export function throttleStage(config: Config, pools: ThrottlePools): MiddlewareHandler<SecurityEnv> {
  const timeoutMs = config.requestTimeoutS * 1000;
  return async (c, next) => {
    const state = securityState(c);
    if (isStreamPath(c.req.path)) {
      const key = state.tokenFp ?? `ip:${state.ip}`;
      if (!pools.sse.tryAcquire()) return tooManyConcurrent();
      if (!pools.ssePerToken.tryAcquire(key)) {
        pools.sse.release();
        return tooManyConcurrent();
      }
      const release = once(() => {
        pools.sse.release();
        pools.ssePerToken.release(key);
      });
      try {
        await next();
      } catch (err) {
        release();
        throw err;
      }
      releaseWhenDelivered(c, release);
      return;
    }

    if (!pools.general.tryAcquire()) return tooManyConcurrent();
    // The slot is freed once both the handler has settled and the response body has ended.
    let parts = 2;
    const arrive = () => {
      if (--parts === 0) pools.general.release();
    };
    const handlerSettled = once(arrive);
    const bodyEnded = once(arrive);
    const work = next();
    work.then(handlerSettled, handlerSettled);
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Uploads last as long as the client takes to send them (bounded by their size cap): no deadline.
    const deadline = uploadKind(c.req.path) !== null
      ? new Promise<true>(() => {})
      : new Promise<true>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      });
    try {
      const expired = await Promise.race([work.then(() => false), deadline]);
      if (expired) {
        state.abort.abort();
        bodyEnded();
        return timedOut(config.requestTimeoutS);
      }
    } catch (err) {
      bodyEnded();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    releaseWhenDelivered(c, bodyEnded);
  };
}
