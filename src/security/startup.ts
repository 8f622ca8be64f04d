/**
 * `serve` start-up guards for the bearer-token setup (gateway contract §1.1, with our fixes):
 * - tokens configured: on a non-loopback bind, weak tokens refuse the start;
 * - no token on a loopback bind: reuse `<dataDir>/auth/gateway-token` or generate one (mode 0600) and
 *   print it once; no token on a non-loopback bind: refuse;
 * - public wildcard origins are warned about.
 * Refusals throw ConfigError (the CLI maps it to exit code 2).
 */
import { join } from "node:path";
import { type Config, ConfigError } from "../config/config.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { isPublicWildcard } from "./glob.ts";
import { generateToken, MIN_PUBLIC_TOKEN_LENGTH, weakTokenReason } from "./tokens.ts";

export const TOKEN_FILE = join("auth", "gateway-token");

const LOOPBACK_HOST = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|\[::1\])$/i;

/** True for a bind address only reachable from this machine. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOST.test(host.trim());
}

export interface ServeAuth {
  /** The tokens the API accepts. */
  tokens: string[];
  /** The token file, when the token came from (or was just written to) `<dataDir>/auth/gateway-token`. */
  generatedTokenFile?: string;
}

export async function ensureServeAuth(
  config: Config,
  /** `showToken: false` (output is not a terminal, e.g. the journal under systemd) prints only the file. */
  options: { print: (line: string) => void; showToken?: boolean },
): Promise<ServeAuth> {
  const { print } = options;
  const loopback = isLoopbackHost(config.host);
  const publicOrigins = config.allowedOrigins.filter(isPublicWildcard);
  if (publicOrigins.length > 0) {
    print(
      `[WARN] ABSTRACTGATEWAY_ALLOWED_ORIGINS contains public wildcard pattern(s) ${
        publicOrigins.join(", ")
      }: ` +
        "any matching web site may call the API from a browser that holds a token.",
    );
  }
  if (!config.security) {
    print("[WARN] ABSTRACTGATEWAY_SECURITY=0: the API is open to anyone who can reach it (tests only).");
    return { tokens: config.authTokens };
  }
  if (config.authTokens.length > 0) {
    checkTokenStrength(config, loopback, print);
    return { tokens: config.authTokens };
  }
  if (!loopback) {
    throw new ConfigError(
      `Missing gateway auth token. Set ABSTRACTGATEWAY_AUTH_TOKEN to a random secret of at least ` +
        `${MIN_PUBLIC_TOKEN_LENGTH} characters (e.g. \`openssl rand -base64 32\`) before binding to the ` +
        `non-loopback host ${config.host}, or bind to 127.0.0.1 to have a token generated.`,
    );
  }
  const file = join(config.dataDir, TOKEN_FILE);
  const stored = await readTokenFile(file);
  if (stored !== null) {
    print(`Gateway auth token: stored in ${file} (not shown again; read it with \`cat ${file}\`)`);
    return { tokens: [stored], generatedTokenFile: file };
  }
  const token = generateToken();
  await writeTokenFile(file, token);
  print(
    options.showToken ?? true
      ? `Gateway auth token: ${token} (generated and stored in ${file}; shown only this once)`
      : `Gateway auth token: generated and stored in ${file} (not printed: the output is not a terminal; ` +
        `read it with \`cat ${file}\`)`,
  );
  return { tokens: [token], generatedTokenFile: file };
}

function checkTokenStrength(config: Config, loopback: boolean, print: (line: string) => void): void {
  config.authTokens.forEach((token, i) => {
    const reason = weakTokenReason(token);
    if (reason === null) return;
    const which = `auth token #${i + 1} of ABSTRACTGATEWAY_AUTH_TOKEN(S)`;
    if (loopback) {
      print(`[WARN] weak ${which}: ${reason}; it would be refused on a non-loopback bind.`);
      return;
    }
    throw new ConfigError(
      `Refusing to start: weak auth token (${which}: ${reason}) while binding to the non-loopback host ` +
        `${config.host}. Use a random secret of at least ${MIN_PUBLIC_TOKEN_LENGTH} characters ` +
        "(e.g. `openssl rand -base64 32`).",
    );
  });
}

/** The stored token, or null when there is no file. Refuses files others can read or symlinks. */
export async function readTokenFile(file: string): Promise<string | null> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  if (!info.isFile) {
    throw new ConfigError(
      `Refusing to start: ${file} is not a regular file; remove it to generate a new token.`,
    );
  }
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
    throw new ConfigError(
      `Refusing to start: ${file} is accessible to other users (mode ${mode}); run \`chmod 600 ${file}\` ` +
        "or delete it to generate a new token.",
    );
  }
  const token = (await Deno.readTextFile(file)).trim();
  if (weakTokenReason(token) !== null) {
    throw new ConfigError(
      `Refusing to start: ${file} does not hold a usable token; delete it to generate a new one.`,
    );
  }
  return token;
}

/** Writes the token atomically (temp file + rename), readable by the owner only. */
async function writeTokenFile(file: string, token: string): Promise<void> {
  const dir = join(file, "..");
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, `${token}\n`, { mode: 0o600 });
}
