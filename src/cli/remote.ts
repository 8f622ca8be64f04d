/**
 * What the client subcommands (`runs`, `commands`, `bundles upload|remove`) share: the connection
 * (URL and token from flags, ABSTRACTGATEWAY_URL / ABSTRACTGATEWAY_AUTH_TOKEN, or the token file a
 * loopback `serve` wrote under the data dir), error wording, and human-or-JSON output.
 */
import { join } from "node:path";
import { GatewayClient, GatewayHttpError } from "../client/client.ts";
import { loadConfig, processEnv } from "../config/config.ts";
import { readTokenFile, TOKEN_FILE } from "../security/startup.ts";
import { settingFlags, UsageError } from "./args.ts";

/** Flags every client subcommand takes (plus `--json`). */
export function clientFlags(command: string) {
  return {
    ...settingFlags(command),
    token: { type: "string" as const },
    "data-dir": { type: "string" as const },
    json: { type: "boolean" as const },
  };
}

export const CLIENT_FLAGS_HELP = [
  "  --url URL          Gateway base URL (env ABSTRACTGATEWAY_URL, default http://127.0.0.1:8080).",
  "  --token TOKEN      Bearer token (env ABSTRACTGATEWAY_AUTH_TOKEN; else <data-dir>/auth/gateway-token).",
  "  --data-dir DIR     Where to look for the token file (env ABSTRACTGATEWAY_DATA_DIR, default ./data).",
  "  --json             Print JSON (one document) instead of human-readable text.",
];

/** The client for the flags given; throws a UsageError with a hint when no token can be found. */
export async function connect(values: Record<string, unknown>): Promise<GatewayClient> {
  const config = loadConfig(processEnv(), values);
  const token = (values.token as string | undefined) ?? config.authTokens[0] ??
    await readTokenFile(join(config.dataDir, TOKEN_FILE));
  if (!token) {
    throw new UsageError(
      `no token: pass --token, set ABSTRACTGATEWAY_AUTH_TOKEN, or run where \`gateway serve\` keeps ` +
        `${join(config.dataDir, TOKEN_FILE)} (--data-dir)`,
    );
  }
  return new GatewayClient({ baseUrl: config.url, token, fetch: describedFetch(config.url) });
}

/** fetch whose network failures say which gateway could not be reached. */
function describedFetch(url: string): typeof fetch {
  return async (input, init) => {
    try {
      return await fetch(input, init);
    } catch (err) {
      if (err instanceof TypeError || err instanceof Deno.errors.ConnectionRefused) {
        throw new Error(`Cannot reach the gateway at ${url}: ${err.message.split("\n")[0]}`);
      }
      throw err;
    }
  };
}

/** Runs one client action, turning an HTTP error into "Cannot <what>: <detail>" (exit 1). */
export async function attempt<T>(what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (err) {
    if (err instanceof GatewayHttpError) {
      const detail = typeof err.detail === "string" ? err.detail : JSON.stringify(err.detail);
      throw new Error(`Cannot ${what}: ${detail} (HTTP ${err.status})`);
    }
    throw err;
  }
}

/** Prints `data` as JSON with --json, else the human lines. */
export function output(values: Record<string, unknown>, data: unknown, human: () => string[]): void {
  if (values.json) console.log(JSON.stringify(data, null, 2));
  else for (const line of human()) console.log(line);
}

/** Columns padded to their widest cell. */
export function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd());
}

/** Parses a JSON object flag (`--input`, `--payload`). */
export function jsonObjectFlag(name: string, text: unknown): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(String(text));
    if (value !== null && typeof value === "object" && !Array.isArray(value)) return value;
  } catch { /* reported below */ }
  throw new UsageError(`--${name} must be a JSON object, e.g. '{"name":"Ada"}'`);
}

/** Exactly `n` positionals named `names`, or a UsageError naming what is missing. */
export function positionalArgs(positionals: string[], names: string[]): string[] {
  if (positionals.length > names.length && names.length === 0) {
    throw new UsageError(`unexpected argument '${positionals[0]}'`);
  }
  if (positionals.length !== names.length) {
    throw new UsageError(`expected ${names.map((n) => `<${n}>`).join(" ")}`);
  }
  return positionals;
}
