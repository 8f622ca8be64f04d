/**
 * Outbound network named by the operator. A downloaded binary's Deno permissions are fixed when it is
 * built, and the operator's LLM provider (or database) host is not known then, so the binary holds
 * network permission for every host and this module confines outbound connections in-process: the
 * program connects only to the hosts the operator named in ABSTRACTGATEWAY_OUTBOUND_HOSTS, plus the
 * host of ABSTRACTGATEWAY_LLM_BASE_URL. A bundle (a node's `base_url`, a `fetch_url` tool call) can
 * never reach anything else. Every outbound connection goes through `authorize` (or `guardedFetch`,
 * which also re-checks every redirect hop); store backends that open sockets call
 * `configOutboundPolicy(config).authorize(host, port)` before connecting.
 */
import type { Config } from "../config/config.ts";

/** A connection to a host the operator did not name. Terminal: retrying cannot help. */
export class OutboundRefusedError extends Error {
  constructor(readonly host: string, readonly port: number, named: readonly string[]) {
    super(
      `Cannot connect to ${host}:${port}: not a host named by the operator (ABSTRACTGATEWAY_OUTBOUND_HOSTS ` +
        `allows ${named.length ? named.join(", ") : "none"})`,
    );
    this.name = "OutboundRefusedError";
  }
}

/** One `host`, `host:port`, `*.domain[:port]`, `[v6]` or `[v6]:port` entry. */
interface Entry {
  host: string;
  /** Matches subdomains of `host` (entry `*.host`), not `host` itself. */
  wildcard: boolean;
  port: number | null;
}

const ENTRY = /^(\*\.)?(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(\d{1,5}))?$/i;

/** Parses one entry; null when it is not a host, host:port or *.domain pattern. */
export function parseOutboundEntry(raw: string): Entry | null {
  const m = ENTRY.exec(raw.trim());
  if (!m) return null;
  const port = m[3] === undefined ? null : Number(m[3]);
  if (port !== null && (port < 1 || port > 65535)) return null;
  return { host: normalHost(m[2]), wildcard: m[1] !== undefined, port };
}

function normalHost(host: string): string {
  return host.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.$/, "");
}

function defaultPort(protocol: string): number {
  return protocol === "https:" ? 443 : protocol === "http:" ? 80 : 0;
}

export interface OutboundPolicy {
  /** The named entries, as configured (for messages and `gateway config`). */
  readonly named: readonly string[];
  allows(host: string, port: number): boolean;
  /** Throws OutboundRefusedError unless `host:port` is named. */
  authorize(host: string, port: number): void;
  /** Checks a URL's host and port (default 80/443); returns the parsed URL. */
  authorizeUrl(url: string | URL): URL;
}

/**
 * The policy for a list of entries (ABSTRACTGATEWAY_OUTBOUND_HOSTS) and the URLs the operator configured
 * (their exact host and port are named too). Entries without a port allow every port of that host.
 */
export function outboundPolicy(
  entries: readonly string[],
  operatorUrls: (string | undefined)[] = [],
): OutboundPolicy {
  const named = [...entries];
  for (const u of operatorUrls) {
    if (!u) continue;
    const url = new URL(u);
    named.push(`${url.hostname}:${url.port || defaultPort(url.protocol)}`);
  }
  const parsed = named.map((raw) => {
    const entry = parseOutboundEntry(raw);
    if (!entry) throw new Error(`Cannot parse outbound host entry ${JSON.stringify(raw)}`);
    return entry;
  });
  const allows = (host: string, port: number) => {
    const h = normalHost(host);
    return parsed.some((e) =>
      (e.port === null || e.port === port) && (e.wildcard ? h.endsWith(`.${e.host}`) : h === e.host)
    );
  };
  const authorize = (host: string, port: number) => {
    if (!allows(host, port)) throw new OutboundRefusedError(host, port, named);
  };
  return {
    named,
    allows,
    authorize,
    authorizeUrl(raw) {
      const url = new URL(raw);
      authorize(url.hostname, Number(url.port) || defaultPort(url.protocol));
      return url;
    },
  };
}

/** The operator's policy for a config: ABSTRACTGATEWAY_OUTBOUND_HOSTS plus the LLM base URL's host. */
export function configOutboundPolicy(
  config: Pick<Config, "outboundHosts" | "llmBaseUrl" | "llmProviders" | "mediaBaseUrl">,
): OutboundPolicy {
  // Every endpoint the operator configured is named by that very setting.
  const providers = Object.values(config.llmProviders ?? {}).map((p) => p.base_url);
  return outboundPolicy(config.outboundHosts, [config.llmBaseUrl, config.mediaBaseUrl, ...providers]);
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/**
 * A fetch that connects only to hosts `policy` names. Redirects are followed by hand so that every hop
 * is checked (fetch's own redirect handling would connect first and ask later).
 */
export function guardedFetch(policy: OutboundPolicy, base: typeof fetch = fetch): typeof fetch {
  return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    let url = policy.authorizeUrl(input instanceof Request ? input.url : input);
    let request = init;
    for (let hop = 0;; hop++) {
      const response = await base(hop === 0 && input instanceof Request ? input : url, {
        ...request,
        redirect: "manual",
      });
      const location = response.headers.get("location");
      if (!REDIRECTS.has(response.status) || location === null || hop >= MAX_REDIRECTS) return response;
      await response.body?.cancel();
      url = policy.authorizeUrl(new URL(location, url));
      // 301/302/303 become a GET without a body, as browsers and fetch do.
      if (response.status !== 307 && response.status !== 308) {
        request = { ...request, method: "GET", body: undefined };
      }
    }
  };
}
