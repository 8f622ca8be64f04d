/**
 * Auth lockout per client address: after `after` failed authentications within `windowS` seconds the
 * address is locked for `baseS × 2^(failures − after)` seconds (capped at `maxS`). While locked every
 * /api/gateway request from it gets 429. Failure counts expire `windowS` after the last failure, and a
 * successful authentication clears the record. State is in memory (per process) and bounded.
 */
import type { Context } from "hono";

export interface LockoutOptions {
  after: number;
  baseS: number;
  maxS: number;
  windowS: number;
  /** Table bound; the least recently touched addresses are forgotten first. */
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  failures: number;
  lastFailureMs: number;
  lockedUntilMs: number;
}

export class Lockout {
  readonly #entries = new Map<string, Entry>();
  readonly #opts: Required<LockoutOptions>;

  constructor(opts: LockoutOptions) {
    this.#opts = { maxEntries: 10_000, now: Date.now, ...opts };
  }

  /** Seconds (rounded up) until `address` may try again, or 0 when it is not locked. */
  retryAfterS(address: string): number {
    const entry = this.#entries.get(address);
    if (!entry) return 0;
    const remainingMs = entry.lockedUntilMs - this.#opts.now();
    return remainingMs > 0 ? Math.ceil(remainingMs / 1000) : 0;
  }

  /** Records a failed authentication; returns the lock it triggered in whole seconds (0 = none). */
  fail(address: string): number {
    const { after, baseS, maxS, windowS } = this.#opts;
    const now = this.#opts.now();
    const previous = this.#entries.get(address);
    const expired = !previous || now - previous.lastFailureMs > windowS * 1000;
    const entry: Entry = expired ? { failures: 0, lastFailureMs: now, lockedUntilMs: 0 } : previous;
    entry.failures += 1;
    entry.lastFailureMs = now;
    let lockS = 0;
    if (entry.failures >= after) {
      lockS = Math.min(baseS * 2 ** (entry.failures - after), maxS);
      entry.lockedUntilMs = now + lockS * 1000;
    }
    this.#touch(address, entry);
    return lockS > 0 ? Math.ceil(lockS) : 0;
  }

  /** A successful authentication forgets the address. */
  succeed(address: string): void {
    this.#entries.delete(address);
  }

  get size(): number {
    return this.#entries.size;
  }

  #touch(address: string, entry: Entry): void {
    this.#entries.delete(address);
    this.#entries.set(address, entry);
    while (this.#entries.size > this.#opts.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }
}

const LOOPBACK_ADDRESS =
  /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost)$/i;

/** True for a loopback client address (IPv4 127/8, IPv6 ::1, IPv4-mapped 127/8, `localhost`). */
export function isLoopbackAddress(address: string): boolean {
  return LOOPBACK_ADDRESS.test(address);
}

/**
 * The client address of a request: the first `X-Forwarded-For` entry when `trustProxy`, else the socket
 * peer, else `unknown`. The peer comes from Deno's serve info, which the server must pass as the Hono env:
 * `Deno.serve(opts, (req, info) => app.fetch(req, { info }))`; behind the connection front it is the
 * accepted client's address, not the relay's (src/net/client_addr.ts). The only reader of it.
 */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const first = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
    if (first) return first.slice(0, 100);
  }
  const env = c.env as { info?: Deno.ServeHandlerInfo } | undefined;
  const addr = env?.info?.remoteAddr;
  return addr && "hostname" in addr ? addr.hostname : "unknown";
}
