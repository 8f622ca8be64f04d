/**
 * Why a request to the gateway failed, in words a user can act on: refused, DNS, TLS, timeout, HTTP
 * status. `retryable` says whether trying again later can help (a wrong token or an unknown run never
 * gets better by waiting).
 */
import { GatewayHttpError } from "./errors.ts";

export interface Failure {
  reason: string;
  retryable: boolean;
}

/** The text of an error and of every `cause` below it (fetch nests the OS error there). */
function chain(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 5; depth++) {
    parts.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(" | ");
}

const TRANSPORT: [RegExp, string][] = [
  [/connection refused|ConnectionRefused/i, "connection refused (nothing listens at that address and port)"],
  [
    /dns error|failed to lookup|name or service not known|nodename nor servname|no such host/i,
    "DNS lookup failed (unknown host name)",
  ],
  [
    /certificate|tls|ssl|handshake|UnknownIssuer|corrupt message|InvalidContentType/i,
    "TLS failed (certificate not trusted or not valid for the host)",
  ],
  [/timed out|TimedOut|timeout/i, "timed out"],
  [/connection reset|ConnectionReset|broken pipe|unexpected eof|connection closed/i, "connection dropped"],
  [/NotCapable|Requires net access/i, "network access to that host is not permitted for this binary"],
];

/** Classifies an error thrown by fetch or by the client. `tokenHint` is added to 401/403 reasons. */
export function describeFailure(err: unknown, tokenHint: string): Failure {
  if (err instanceof GatewayHttpError) {
    if (err.status === 401 || err.status === 403) {
      return { reason: `${err.message} (${tokenHint})`, retryable: false };
    }
    return { reason: err.message, retryable: err.status >= 500 || err.status === 429 };
  }
  const text = chain(err);
  for (const [pattern, reason] of TRANSPORT) if (pattern.test(text)) return { reason, retryable: true };
  return { reason: text.split("\n")[0], retryable: true };
}
