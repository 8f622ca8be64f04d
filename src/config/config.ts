/** Loads, validates and resolves the effective configuration from flags and environment. */
import { isAbsolute, join, relative, resolve } from "node:path";
import { type LlmProvider, type Setting, SETTINGS } from "./settings.ts";

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  flowsDir: string;
  storeBackend: "file" | "sqlite" | "postgres";
  dbPath: string;
  databaseUrl: string | undefined;
  dbPoolSize: number;
  leaseTtlS: number;
  runner: boolean;
  pollS: number;
  commandBatchLimit: number;
  tickMaxSteps: number;
  tickWorkers: number;
  runScanLimit: number;
  security: boolean;
  /** AUTH_TOKEN and AUTH_TOKENS merged, de-duplicated, in order. */
  authTokens: string[];
  protectRead: boolean;
  protectWrite: boolean;
  devReadNoAuth: boolean;
  allowedOrigins: string[];
  maxBodyBytes: number;
  maxUploadBodyBytes: number;
  maxAttachmentBytes: number;
  maxBundleBytes: number;
  maxConcurrency: number;
  maxSse: number;
  maxSsePerToken: number;
  requestTimeoutS: number;
  bodyIdleTimeoutS: number;
  bodyMinRateBps: number;
  maxInboxDepth: number;
  headerTimeoutS: number;
  idleConnTimeoutS: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  lockoutAfter: number;
  lockoutBaseS: number;
  lockoutMaxS: number;
  lockoutWindowS: number;
  trustProxy: boolean;
  auditLog: boolean;
  auditLogMaxBytes: number;
  auditLogRotations: number;
  auditLogHeaders: string[];
  metricsOpen: boolean;
  llmBaseUrl: string | undefined;
  /** ABSTRACTGATEWAY_OUTBOUND_HOSTS entries (see src/security/outbound.ts). */
  outboundHosts: string[];
  llmModel: string | undefined;
  /** Send `llmModel` on every call, whatever model the payload names. */
  llmModelOverride: boolean;
  llmApiKey: string | undefined;
  llmTimeoutS: number;
  llmMaxRetries: number;
  /** Provider name (lower case) → its endpoint; empty = every call uses the default endpoint. */
  llmProviders: Record<string, LlmProvider>;
  mediaBaseUrl: string | undefined;
  mediaApiKey: string | undefined;
  toolMode: "approval" | "passthrough" | "delegated" | "local";
  /** Absolute paths of the executables execute_command may start; unset = the tool is off. */
  toolCommands: string[] | undefined;
  promptCache: boolean | undefined;
  enableTooling: boolean;
  workspaceDir: string | undefined;
  /** Named extra workspace roots (absolute paths). */
  workspaceMounts: Record<string, string>;
  /** Absolute path of the declared-commands JSON file, if any. */
  toolingCommands: string | undefined;
  toolingMaxFileBytes: number;
  logLevel: "debug" | "info" | "warn" | "error" | "none";
  logFormat: "auto" | "json" | "pretty";
  /** Base URL the command-line client talks to. */
  url: string;
  /** Port of the standalone runner's metrics and health listener (none when undefined). */
  runnerMetricsPort: number | undefined;
  consoleSessionTtlS: number;
}

/** A bad setting: the message is one line naming the variable (or flag) and what is allowed. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export type Env = Record<string, string | undefined>;

/** Reads the process environment; unreadable variables (outside the permission set) count as unset. */
export function processEnv(): Env {
  const env: Env = {};
  for (const s of SETTINGS) {
    for (const name of [s.env, ...(s.aliases ?? [])]) env[name] = Deno.env.get(name);
  }
  return env;
}

function rawValue(s: Setting, env: Env, flags: Record<string, unknown>): { value?: string; source: string } {
  const fromFlag = s.flag !== undefined ? flags[s.flag] : undefined;
  if (fromFlag !== undefined && fromFlag !== null) return { value: String(fromFlag), source: `--${s.flag}` };
  for (const name of [s.env, ...(s.aliases ?? [])]) {
    const v = env[name];
    if (v !== undefined && v.trim() !== "") return { value: v.trim(), source: name };
  }
  return { value: s.default, source: s.env };
}

/**
 * Builds the Config. Flags win over env vars, env vars over defaults. Paths are resolved to
 * absolute paths against `cwd`. Throws ConfigError on the first bad value.
 */
export function loadConfig(env: Env, flags: Record<string, unknown> = {}, cwd = Deno.cwd()): Config {
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const { value, source } = rawValue(s, env, flags);
    if (value === undefined) {
      out[s.key] = undefined;
      continue;
    }
    const parsed = s.schema.safeParse(value);
    if (!parsed.success) {
      const shown = s.secret ? "<hidden>" : JSON.stringify(value);
      throw new ConfigError(`${source}=${shown} is not valid: expected ${s.allowed}`);
    }
    out[s.key] = parsed.data;
  }
  const cfg = out as unknown as Config & { authToken?: string[] };
  cfg.authTokens = [...new Set([...(cfg.authToken ?? []), ...(cfg.authTokens ?? [])])];
  delete cfg.authToken;
  cfg.dataDir = resolve(cwd, expandHome(cfg.dataDir, env));
  cfg.flowsDir = resolve(cwd, expandHome(cfg.flowsDir, env));
  if (cfg.workspaceDir) cfg.workspaceDir = resolve(cwd, expandHome(cfg.workspaceDir, env));
  cfg.workspaceMounts ??= {};
  cfg.outboundHosts ??= [];
  cfg.llmProviders ??= {};
  if (cfg.toolingCommands) cfg.toolingCommands = resolve(cwd, expandHome(cfg.toolingCommands, env));
  const dbSource = rawValue(SETTINGS.find((s) => s.key === "dbPath")!, env, flags).source;
  cfg.dbPath = cfg.dbPath ? resolve(cwd, expandHome(cfg.dbPath, env)) : join(cfg.dataDir, "gateway.sqlite3");
  if (cfg.storeBackend === "sqlite" && !isUnder(cfg.dbPath, cfg.dataDir)) {
    throw new ConfigError(
      `${dbSource}=${
        JSON.stringify(cfg.dbPath)
      } is not valid: ABSTRACTGATEWAY_DB_PATH must point to a file ` +
        `under ABSTRACTGATEWAY_DATA_DIR (${cfg.dataDir}); unset it or move the file there`,
    );
  }
  if (cfg.storeBackend === "postgres" && !cfg.databaseUrl) {
    throw new ConfigError("ABSTRACTGATEWAY_STORE_BACKEND=postgres needs ABSTRACTGATEWAY_DATABASE_URL");
  }
  if (cfg.llmModelOverride && !cfg.llmModel) {
    throw new ConfigError("ABSTRACTGATEWAY_LLM_MODEL_OVERRIDE=1 needs ABSTRACTGATEWAY_LLM_MODEL");
  }
  return cfg;
}

function expandHome(path: string, env: Env): string {
  return path.startsWith("~/") && env.HOME ? join(env.HOME, path.slice(2)) : path;
}

/** True when `path` lies strictly inside `dir` (both absolute). */
export function isUnder(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
}

/** Where a setting's value came from. */
export type SettingSource = "flag" | "env" | "default" | "unset";

export interface SettingView {
  env: string;
  flag?: string;
  /** The effective value (paths resolved), secrets masked. */
  value: unknown;
  source: SettingSource;
}

/** Every setting by its variable name, with its effective value (secrets masked) and its source. */
export function describeSettings(cfg: Config, env: Env, flags: Record<string, unknown> = {}): SettingView[] {
  return SETTINGS.map((s) => {
    const { value: raw, source: from } = rawValue(s, env, flags);
    // authToken is merged into authTokens by loadConfig; show what this variable itself holds.
    const effective = s.key === "authToken" ? raw : (cfg as unknown as Record<string, unknown>)[s.key];
    const source: SettingSource = from.startsWith("--")
      ? "flag"
      : from === s.env && (env[s.env] ?? "").trim() === ""
      ? (effective === undefined ? "unset" : "default") // a derived default (e.g. DB_PATH) counts too
      : "env";
    const value = s.secret ? maskSecret(effective) : effective;
    return { env: s.env, ...(s.flag ? { flag: `--${s.flag}` } : {}), value, source };
  });
}

function maskSecret(value: unknown): unknown {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.map(() => "***");
  return "***";
}
