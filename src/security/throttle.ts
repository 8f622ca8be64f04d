/**
 * Concurrency and time limits. Ledger streams (paths ending `/ledger/stream`) take a slot of the SSE pool
 * and of their token's SSE pool and have no timeout; every other request takes a slot of the general pool
 * and, except uploads, gets `requestTimeoutS` to produce its response. A slot is held until the response body has been
 * sent or cancelled (and, after a timeout, until the abandoned handler has finished).
 */
import type { Context } from "hono";
import type { Config } from "../config/config.ts";
import { DeadlineQueue } from "./deadline_queue.ts";
import { KeyedPool, onBodyEnd, once, Pool } from "./limits.ts";
import { timedOut, tooManyConcurrent } from "./responses.ts";
import { isStreamPath, uploadKind } from "./routes.ts";
import type { RequestSecurity, SecurityEnv } from "./state.ts";

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
 * Calls `release` once the response has been delivered. Served by Deno (`info` present), that is when
 * Deno reports the exchange complete (`info.completed`: the body sent, failed or cancelled, which
 * also covers bodies the server never reads), so an ordinary response is not re-wrapped in a stream
 * of its own (a wrapped body costs a JS stream, a Response copy and Deno's slow body path on every
 * request). Streams also release when their body ends, and without `info` (in-process `app.request`)
 * the body is wrapped. HEAD releases at once: Hono drops that body unread, so it is cancelled here to
 * stop its producer (e.g. a ledger stream's heartbeat) from running on.
 */
function releaseWhenDelivered(c: Context<SecurityEnv>, release: () => void, stream: boolean): void {
  if (c.req.method === "HEAD") {
    c.res.body?.cancel().catch(() => {});
    return release();
  }
  const completed = c.env?.info?.completed;
  completed?.then(release, release);
  if (stream || !completed) c.res = onBodyEnd(c.res, release);
}

/**
 * Runs `inner` (the rest of the request) under the concurrency and time limits; answers 429 when no
 * slot is free and 503 when the deadline passes first.
 */
export type ThrottleGate = (
  c: Context<SecurityEnv>,
  state: RequestSecurity,
  inner: () => Promise<void>,
) => Promise<Response | void>;

export function throttleGate(config: Config, pools: ThrottlePools): ThrottleGate {
  const deadlines = new DeadlineQueue(config.requestTimeoutS * 1000);
  const streamGate: ThrottleGate = async (c, state, inner) => {
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
      await inner();
    } catch (err) {
      release();
      throw err;
    }
    releaseWhenDelivered(c, release, true);
  };
  return async (c, state, inner) => {
    const path = c.req.path;
    if (isStreamPath(path)) return await streamGate(c, state, inner);

    if (!pools.general.tryAcquire()) return tooManyConcurrent();
    // The slot is freed once both the handler has settled and the response body has ended.
    let parts = 2;
    const arrive = () => {
      if (--parts === 0) pools.general.release();
    };
    const bodyEnded = once(arrive);
    const work = inner();
    work.then(arrive, arrive);
    // Uploads last as long as the client takes to send them (bounded by their size cap): no deadline.
    if (uploadKind(path) !== null) {
      try {
        await work;
      } catch (err) {
        bodyEnded();
        throw err;
      }
      return releaseWhenDelivered(c, bodyEnded, false);
    }
    const expiry = Promise.withResolvers<true>();
    const deadline = deadlines.start(() => expiry.resolve(true));
    try {
      const expired = await Promise.race([work.then(() => false), expiry.promise]);
      if (expired) {
        state.abort.abort();
        bodyEnded();
        return timedOut(config.requestTimeoutS);
      }
    } catch (err) {
      bodyEnded();
      throw err;
    } finally {
      deadline.cancel();
    }
    releaseWhenDelivered(c, bodyEnded, false);
  };
}
