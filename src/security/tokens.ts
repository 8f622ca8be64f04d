/** Bearer tokens: constant-time verification, fingerprints for logs, weak-token rules, generation. */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";

/**
 * Synchronous node:crypto: every authenticated request hashes its token, and WebCrypto's async
 * digest cost ~7× more per call (a hop to another thread and back) on the request path.
 */
function sha256(text: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(text).digest());
}

const hex = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");

/** First 12 hex chars of SHA-256(token): identifies a token in logs without revealing it. */
export function tokenFingerprint(token: string): Promise<string> {
  return Promise.resolve(hex(sha256(token).subarray(0, 6)));
}

/** Compares two equal-length digests without an early exit. */
function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ (b[i] ?? 0);
  return diff === 0;
}

/**
 * Holds the accepted tokens as SHA-256 digests. `verify` hashes the presented token (so its length leaks
 * nothing) and compares it with every digest, never stopping at the first match.
 */
export class TokenVerifier {
  readonly #digests: Uint8Array[];
  readonly count: number;

  constructor(tokens: readonly string[]) {
    this.count = tokens.length;
    this.#digests = tokens.map(sha256);
  }

  verify(presented: string): Promise<boolean> {
    return Promise.resolve(this.inspect(presented).valid);
  }

  /** Whether an `Authorization` header carries an accepted bearer token. */
  async verifyHeader(header: string | undefined | null): Promise<boolean> {
    const token = bearerToken(header);
    return token !== null && await this.verify(token);
  }

  /**
   * Whether `presented` is accepted, plus its fingerprint (from the same digest). Synchronous: the
   * request path checks a token without an extra await.
   */
  inspect(presented: string): { valid: boolean; fingerprint: string } {
    const candidate = sha256(presented);
    let valid = false;
    for (const digest of this.#digests) valid = digestsEqual(candidate, digest) || valid;
    return { valid, fingerprint: hex(candidate.subarray(0, 6)) };
  }
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), or null. */
export function bearerToken(header: string | undefined | null): string | null {
  if (!header) return null;
  const m = /^\s*bearer\s+(.*)$/is.exec(header);
  const token = m?.[1].trim() ?? "";
  return token === "" ? null : token;
}

/** Minimum length of a token accepted on a non-loopback bind. */
export const MIN_PUBLIC_TOKEN_LENGTH = 24;

const COMMON_TOKENS = new Set([
  "dev-token",
  "devtoken",
  "token",
  "changeme",
  "change-me",
  "password",
  "passw0rd",
  "admin",
  "god",
  "zeus",
  "root",
  "superuser",
  "secret",
  "test",
  "testing",
  "letmein",
  "qwerty",
  "default",
  "gateway",
  "abstractgateway",
  "123456",
  "12345678",
  "1234567890",
]);

/**
 * Why `token` is too weak for a non-loopback bind, or null when it is acceptable. Weak = empty, shorter
 * than 24 characters, a well-known value, or built from fewer than 8 distinct characters (which also
 * catches repeated words such as `passwordpasswordpassword`).
 */
export function weakTokenReason(token: string): string | null {
  const t = token.trim();
  if (t === "") return "it is empty";
  if (COMMON_TOKENS.has(t.toLowerCase())) return "it is a well-known default value";
  if (t.length < MIN_PUBLIC_TOKEN_LENGTH) {
    return `it is shorter than ${MIN_PUBLIC_TOKEN_LENGTH} characters`;
  }
  if (new Set(t).size < 8) return "it uses fewer than 8 distinct characters";
  return null;
}

/** 32 random bytes, base64url without padding (43 characters). */
export function generateToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
