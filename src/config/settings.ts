/**
 * Every setting of the gateway in one table: its env var (the upstream `ABSTRACTGATEWAY_*` name so
 * existing deployments carry over), an optional CLI flag, how it parses, its default and a line of help.
 * `loadConfig` (config.ts) is the only reader; `gateway config` and `--help` print from this table.
 */
import { z } from "zod";
import { parseOutboundEntry } from "../security/outbound.ts";

const bool = z.enum(["1", "true", "yes", "on", "0", "false", "no", "off"]).transform((v) =>
  ["1", "true", "yes", "on"].includes(v)
);
const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.string().regex(/^-?\d+$/, "an integer").transform(Number).pipe(z.number().min(min).max(max));
const num = (min: number, max = Number.MAX_VALUE) =>
  z.string().regex(/^-?\d+(\.\d+)?$/, "a number").transform(Number).pipe(z.number().min(min).max(max));
const list = z.string().transform((v) => [...new Set(v.split(",").map((s) => s.trim()).filter(Boolean))]);
const str = z.string();
const url = z.url({ protocol: /^https?$/ });
const logLevel = z.enum(["debug", "info", "warn", "error", "none"]);
/** `name=/abs/path` entries, newline- or comma-separated, into a name → path map. */
const mounts = z.string().transform((v, ctx) => {
  const out: Record<string, string> = {};
  for (const entry of v.split(/[\n,]/).map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9_-]{1,32})=(\/.*)$/.exec(entry);
    if (!m || m[1] in out) {
      ctx.addIssue({ code: "custom", message: `bad mount entry ${JSON.stringify(entry)}` });
      return z.NEVER;
    }
    out[m[1]] = m[2].trim();
  }
  return out;
});

/** One LLM provider's endpoint (ABSTRACTGATEWAY_LLM_PROVIDERS entries). */
export interface LlmProvider {
  base_url: string;
  api_key?: string;
  model?: string;
  models?: Record<string, string>;
}

const providerEntry = z.object({
  base_url: url,
  api_key: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  models: z.record(z.string(), z.string().min(1)).optional(),
}).strict();
/** JSON text → provider name (lower case) → endpoint. */
const llmProviders = z.string().transform((v, ctx) => {
  let raw: unknown;
  try {
    raw = JSON.parse(v);
  } catch {
    ctx.addIssue({ code: "custom", message: "not JSON" });
    return z.NEVER;
  }
  const parsed = z.record(z.string().min(1), providerEntry).safeParse(raw);
  if (!parsed.success) {
    ctx.addIssue({ code: "custom", message: parsed.error.message });
    return z.NEVER;
  }
  const out: Record<string, LlmProvider> = {};
  for (const [name, entry] of Object.entries(parsed.data)) out[name.trim().toLowerCase()] = entry;
  return out;
});

export interface Setting {
  /** Key in the Config object. */
  key: string;
  env: string;
  /** Extra env names read when `env` is unset (legacy aliases). */
  aliases?: string[];
  /** CLI flag (without `--`) on the subcommands listed in `commands`. */
  flag?: string;
  commands?: string[];
  schema: z.ZodType;
  default: string | undefined;
  /** Values never printed in clear. */
  secret?: boolean;
  /** Human description of allowed values, used in error lines. */
  allowed: string;
  help: string;
}

const SERVE = ["serve"];
const DATA = ["serve", "runner", "migrate", "config", "tail"];
const RUN = ["serve", "runner"];
/** Subcommands that talk to a running gateway over HTTP. */
export const CLIENT_COMMANDS = ["runs", "commands", "bundles", "tail"];

export const SETTINGS: Setting[] = [
  // Listening
  {
    key: "host",
    env: "ABSTRACTGATEWAY_HOST",
    flag: "host",
    commands: SERVE,
    schema: str.min(1),
    default: "127.0.0.1",
    allowed: "a host name or IP address",
    help: "Address to listen on (loopback by default).",
  },
  {
    key: "port",
    env: "ABSTRACTGATEWAY_PORT",
    flag: "port",
    commands: SERVE,
    schema: int(0, 65535),
    default: "8080",
    allowed: "an integer 0..65535 (0 = any free port)",
    help: "TCP port to listen on.",
  },
  // Paths and store
  {
    key: "dataDir",
    env: "ABSTRACTGATEWAY_DATA_DIR",
    flag: "data-dir",
    commands: DATA,
    schema: str.min(1),
    default: "./data",
    allowed: "a directory path",
    help: "Durable root: runs, ledgers, commands, artifacts, audit log.",
  },
  {
    key: "flowsDir",
    env: "ABSTRACTGATEWAY_FLOWS_DIR",
    flag: "flows-dir",
    commands: [...RUN, "config", "bundle"],
    schema: str.min(1),
    default: "./bundles",
    allowed: "a directory (or one .flow file)",
    help: "Where the .flow bundles are loaded from.",
  },
  {
    key: "storeBackend",
    env: "ABSTRACTGATEWAY_STORE_BACKEND",
    flag: "store-backend",
    commands: [...RUN, "config"],
    schema: z.string().transform((v) => v.toLowerCase()).pipe(z.enum(["file", "sqlite", "postgres"])),
    default: "file",
    allowed: "file | sqlite | postgres",
    help: "Store backend.",
  },
  {
    key: "dbPath",
    env: "ABSTRACTGATEWAY_DB_PATH",
    flag: "db-path",
    commands: [...RUN, "migrate", "config"],
    schema: str.min(1),
    default: undefined,
    allowed: "a file path under the data dir",
    help: "SQLite file (default <data-dir>/gateway.sqlite3).",
  },
  {
    key: "databaseUrl",
    env: "ABSTRACTGATEWAY_DATABASE_URL",
    commands: [...RUN, "migrate", "config"],
    schema: z.string().regex(/^postgres(ql)?:\/\//, "a postgres:// URL"),
    default: undefined,
    secret: true,
    allowed: "postgres://user:password@host:port/database",
    help: "PostgreSQL connection URL (backend `postgres`). Its host must be in the net permission set.",
  },
  {
    key: "dbPoolSize",
    env: "ABSTRACTGATEWAY_DB_POOL_SIZE",
    commands: [...RUN, "config"],
    schema: int(1, 1000),
    default: "10",
    allowed: "an integer 1..1000",
    help: "PostgreSQL connections per process (plus one for LISTEN).",
  },
  {
    key: "leaseTtlS",
    env: "ABSTRACTGATEWAY_LEASE_TTL_S",
    schema: num(0.5, 3600),
    default: "15",
    allowed: "seconds, 0.5..3600",
    help: "PostgreSQL: how long a runner's claim on a run outlives the runner (renewed every third of it).",
  },
  // Runner
  {
    key: "runner",
    env: "ABSTRACTGATEWAY_RUNNER",
    schema: bool,
    default: "1",
    allowed: "1|0|true|false|yes|no|on|off",
    help: "Run the runner inside `serve` (`serve --no-runner` turns it off).",
  },
  {
    key: "pollS",
    env: "ABSTRACTGATEWAY_POLL_S",
    schema: num(0.01, 60),
    default: "0.25",
    allowed: "seconds, 0.01..60",
    help: "Runner safety-net poll interval (wake-ups are push-based).",
  },
  {
    key: "commandBatchLimit",
    env: "ABSTRACTGATEWAY_COMMAND_BATCH_LIMIT",
    schema: int(1, 100000),
    default: "200",
    allowed: "an integer >= 1",
    help: "Commands applied per runner loop.",
  },
  {
    key: "tickMaxSteps",
    env: "ABSTRACTGATEWAY_TICK_MAX_STEPS",
    schema: int(1, 100000),
    default: "100",
    allowed: "an integer >= 1",
    help: "Steps per tick before a run yields.",
  },
  {
    key: "tickWorkers",
    env: "ABSTRACTGATEWAY_TICK_WORKERS",
    schema: int(1, 256),
    default: "4",
    allowed: "an integer 1..256",
    help: "Runs ticked concurrently.",
  },
  {
    key: "runScanLimit",
    env: "ABSTRACTGATEWAY_RUN_SCAN_LIMIT",
    schema: int(1, 100000),
    default: "200",
    allowed: "an integer >= 1",
    help: "Runs considered per runner loop.",
  },
  // Security
  {
    key: "security",
    env: "ABSTRACTGATEWAY_SECURITY",
    schema: bool,
    default: "1",
    allowed: "1|0|true|false|yes|no|on|off",
    help: "Security middleware on /api/gateway (off only for isolated tests).",
  },
  {
    key: "authToken",
    env: "ABSTRACTGATEWAY_AUTH_TOKEN",
    schema: list,
    default: undefined,
    secret: true,
    allowed: "a token (comma-separated list allowed)",
    help: "Bearer token(s) accepted by the API.",
  },
  {
    key: "authTokens",
    env: "ABSTRACTGATEWAY_AUTH_TOKENS",
    schema: list,
    default: undefined,
    secret: true,
    allowed: "comma-separated tokens",
    help: "More bearer tokens (merged with AUTH_TOKEN).",
  },
  {
    key: "protectRead",
    env: "ABSTRACTGATEWAY_PROTECT_READ",
    schema: bool,
    default: "1",
    allowed: "1|0|true|false|yes|no|on|off",
    help: "Require a token for reads (0 = anonymous readers, never admins).",
  },
  {
    key: "protectWrite",
    env: "ABSTRACTGATEWAY_PROTECT_WRITE",
    schema: bool,
    default: "1",
    allowed: "1|0|true|false|yes|no|on|off",
    help: "Require a token for writes (0 = anonymous writers, never admins).",
  },
  {
    key: "devReadNoAuth",
    env: "ABSTRACTGATEWAY_DEV_READ_NO_AUTH",
    schema: bool,
    default: "0",
    allowed: "1|0|true|false|yes|no|on|off",
    help: "Allow token-less reads from loopback clients (dev only).",
  },
  {
    key: "allowedOrigins",
    env: "ABSTRACTGATEWAY_ALLOWED_ORIGINS",
    schema: list,
    default: "http://localhost:*,http://127.0.0.1:*",
    allowed: "comma-separated origin glob patterns",
    help: "Origins allowed to call the API (requests with another Origin get 403).",
  },
  {
    key: "maxBodyBytes",
    env: "ABSTRACTGATEWAY_MAX_BODY_BYTES",
    schema: int(0),
    default: "256000",
    allowed: "bytes >= 0 (0 = unlimited)",
    help: "Largest request body for ordinary writes.",
  },
  {
    key: "maxUploadBodyBytes",
    env: "ABSTRACTGATEWAY_MAX_UPLOAD_BODY_BYTES",
    schema: int(0),
    default: "0",
    allowed: "bytes >= 0 (0 = derive from upload caps)",
    help: "Largest body for upload routes.",
  },
  {
    key: "maxAttachmentBytes",
    env: "ABSTRACTGATEWAY_MAX_ATTACHMENT_BYTES",
    schema: int(1),
    default: "26214400",
    allowed: "bytes >= 1",
    help: "Largest attachment upload.",
  },
  {
    key: "maxBundleBytes",
    env: "ABSTRACTGATEWAY_MAX_BUNDLE_BYTES",
    schema: int(1),
    default: "78643200",
    allowed: "bytes >= 1",
    help: "Largest .flow upload.",
  },
  {
    key: "maxConcurrency",
    env: "ABSTRACTGATEWAY_MAX_CONCURRENCY",
    schema: int(1, 100000),
    default: "64",
    allowed: "an integer >= 1",
    help: "Concurrent non-streaming requests.",
  },
  {
    key: "maxSse",
    env: "ABSTRACTGATEWAY_MAX_SSE",
    schema: int(1, 100000),
    default: "32",
    allowed: "an integer >= 1",
    help: "Concurrent SSE streams in total.",
  },
  {
    key: "maxSsePerToken",
    env: "ABSTRACTGATEWAY_MAX_SSE_PER_TOKEN",
    schema: int(1, 100000),
    default: "16",
    allowed: "an integer >= 1",
    help: "Concurrent SSE streams per token.",
  },
  {
    key: "requestTimeoutS",
    env: "ABSTRACTGATEWAY_REQUEST_TIMEOUT_S",
    schema: num(0.1, 3600),
    default: "30",
    allowed: "seconds, 0.1..3600",
    help: "Timeout for non-streaming requests.",
  },
  {
    key: "lockoutAfter",
    env: "ABSTRACTGATEWAY_LOCKOUT_AFTER",
    schema: int(1, 1000),
    default: "5",
    allowed: "an integer >= 1",
    help: "Failed auths before a client address is locked out.",
  },
  {
    key: "lockoutBaseS",
    env: "ABSTRACTGATEWAY_LOCKOUT_BASE_S",
    schema: num(0, 86400),
    default: "1",
    allowed: "seconds >= 0",
    help: "First lockout; doubles with each further failure.",
  },
  {
    key: "lockoutMaxS",
    env: "ABSTRACTGATEWAY_LOCKOUT_MAX_S",
    schema: num(0, 86400),
    default: "60",
    allowed: "seconds >= 0",
    help: "Longest lockout.",
  },
  {
    key: "lockoutWindowS",
    env: "ABSTRACTGATEWAY_LOCKOUT_WINDOW_S",
    schema: num(1, 86400 * 7),
    default: "900",
    allowed: "seconds >= 1",
    help: "Failure counts expire after this long without failures.",
  },
  {
    key: "trustProxy",
    env: "ABSTRACTGATEWAY_TRUST_PROXY",
    schema: bool,
    default: "0",
    allowed: "1|0|true|false|yes|no|on|off",
    help: "Take the client address from X-Forwarded-For.",
  },
  {
    key: "auditLog",
    env: "ABSTRACTGATEWAY_AUDIT_LOG",
    schema: bool,
    default: "1",
    allowed: "1|0|true|false|yes|no|on|off",
    help: "Append-only audit log of write requests and auth failures.",
  },
  {
    key: "auditLogMaxBytes",
    env: "ABSTRACTGATEWAY_AUDIT_LOG_MAX_BYTES",
    schema: int(0),
    default: "52428800",
    allowed: "bytes >= 0 (0 = never rotate)",
    help: "Rotate the audit log at this size.",
  },
  {
    key: "auditLogRotations",
    env: "ABSTRACTGATEWAY_AUDIT_LOG_ROTATIONS",
    schema: int(0, 200),
    default: "10",
    allowed: "an integer 0..200",
    help: "Rotated audit files kept.",
  },
  {
    key: "auditLogHeaders",
    env: "ABSTRACTGATEWAY_AUDIT_LOG_HEADERS",
    schema: list,
    default: "x-client-id,x-client-version,x-forwarded-for",
    allowed: "comma-separated header names",
    help: "Request headers copied into audit entries.",
  },
  {
    key: "metricsOpen",
    env: "ABSTRACTGATEWAY_METRICS_OPEN",
    schema: bool,
    default: "0",
    allowed: "1|0|true|false|yes|no|on|off",
    help: "Serve /metrics without a token.",
  },
  // LLM (OpenAI-compatible chat completions)
  {
    key: "llmBaseUrl",
    env: "ABSTRACTGATEWAY_LLM_BASE_URL",
    schema: url,
    default: undefined,
    allowed: "an http(s) URL of an OpenAI-compatible API (…/v1)",
    help: "Default LLM endpoint for llm_call and agent nodes: calls naming no provider, or every call when " +
      "ABSTRACTGATEWAY_LLM_PROVIDERS is unset. Provider names are then labels; a node's base_url comes first.",
  },
  {
    key: "llmModel",
    env: "ABSTRACTGATEWAY_LLM_MODEL",
    schema: str.min(1),
    default: undefined,
    allowed: "a model name",
    help: "Default model.",
  },
  {
    key: "llmModelOverride",
    env: "ABSTRACTGATEWAY_LLM_MODEL_OVERRIDE",
    schema: bool,
    default: "0",
    allowed: "1|0|true|false|yes|no|on|off",
    help: "Always send ABSTRACTGATEWAY_LLM_MODEL, ignoring the model a bundle or node names.",
  },
  {
    key: "llmApiKey",
    env: "ABSTRACTGATEWAY_LLM_API_KEY",
    schema: str.min(1),
    default: undefined,
    secret: true,
    allowed: "an API key",
    help: "API key sent as a bearer token to the LLM endpoint.",
  },
  {
    key: "llmTimeoutS",
    env: "ABSTRACTGATEWAY_LLM_TIMEOUT_S",
    schema: num(1, 3600),
    default: "120",
    allowed: "seconds, 1..3600",
    help: "Timeout of one LLM request.",
  },
  {
    key: "llmMaxRetries",
    env: "ABSTRACTGATEWAY_LLM_MAX_RETRIES",
    schema: int(0, 20),
    default: "3",
    allowed: "an integer 0..20",
    help: "Retries on 429/5xx/network errors, with exponential backoff.",
  },
  {
    key: "llmProviders",
    env: "ABSTRACTGATEWAY_LLM_PROVIDERS",
    schema: llmProviders,
    default: undefined,
    secret: true,
    allowed: 'JSON: {"<provider>": {"base_url", "api_key"?, "model"?, "models"?}}',
    help: "Per-provider LLM endpoints: a node's provider goes to its base_url/api_key, model via `models` " +
      "(else as named, else `model`). Unlisted provider: the step fails.",
  },
  {
    key: "mediaBaseUrl",
    env: "ABSTRACTGATEWAY_MEDIA_BASE_URL",
    schema: url,
    default: undefined,
    allowed: "an http(s) URL of an OpenAI-compatible API (…/v1)",
    help:
      "Media endpoint of generate_image, edit_image, generate_voice and transcribe_audio (images/generations, " +
      "images/edits, audio/speech, audio/transcriptions); outputs become run artifacts. Unset: those steps fail.",
  },
  {
    key: "mediaApiKey",
    env: "ABSTRACTGATEWAY_MEDIA_API_KEY",
    schema: str.min(1),
    default: undefined,
    secret: true,
    allowed: "an API key",
    help: "API key sent as a bearer token to the media endpoint.",
  },
  // Runtime hand-off
  {
    key: "toolMode",
    env: "ABSTRACTGATEWAY_TOOL_MODE",
    schema: z.enum(["approval", "passthrough", "delegated", "local"]),
    default: "approval",
    allowed: "approval | passthrough | delegated | local",
    help: "Tool execution policy for tool/agent nodes.",
  },
  {
    key: "promptCache",
    env: "ABSTRACTGATEWAY_PROMPT_CACHE",
    schema: bool,
    default: undefined,
    allowed: "1|0|true|false|yes|no|on|off",
    help: "Seed vars._runtime.prompt_cache of new runs.",
  },
  // Operator tooling (off by default)
  {
    key: "enableTooling",
    env: "ABSTRACTGATEWAY_ENABLE_TOOLING",
    schema: bool,
    default: "0",
    allowed: "1|0|true|false|yes|no|on|off",
    help: "Operator tooling routes (also needs the serve:tooling permission set).",
  },
  {
    key: "workspaceDir",
    env: "ABSTRACTGATEWAY_WORKSPACE_DIR",
    schema: str.min(1),
    default: undefined,
    allowed: "a directory path",
    help: "Operator workspace root for tooling file helpers.",
  },
  {
    key: "workspaceMounts",
    env: "ABSTRACTGATEWAY_WORKSPACE_MOUNTS",
    schema: mounts,
    default: undefined,
    allowed: "newline- or comma-separated name=/abs/path (name [A-Za-z0-9_-]{1,32}, names unique)",
    help: "Extra named roots for tooling file helpers (virtual paths `<name>:/rel/path`).",
  },
  {
    key: "toolingCommands",
    env: "ABSTRACTGATEWAY_TOOLING_COMMANDS",
    schema: str.min(1),
    default: undefined,
    allowed: 'a JSON file path: {"commands": {"<id>": {"argv": [...], "cwd"?, "env"?}}}',
    help: "Commands the tooling process manager may start (nothing else is ever run).",
  },
  {
    key: "toolingMaxFileBytes",
    env: "ABSTRACTGATEWAY_TOOLING_MAX_FILE_BYTES",
    schema: int(1),
    default: "1048576",
    allowed: "bytes >= 1",
    help: "Largest file the tooling file helpers read or write.",
  },
  // Outbound network
  {
    key: "outboundHosts",
    env: "ABSTRACTGATEWAY_OUTBOUND_HOSTS",
    schema: list.refine(
      (entries) => entries.every((e) => parseOutboundEntry(e) !== null),
      "host, host:port, *.domain or [v6]:port entries",
    ),
    default: undefined,
    allowed: "comma-separated host, host:port, *.domain[:port] or [v6][:port] entries",
    help: "The only hosts the gateway connects to (LLM providers, later a database), besides the hosts of " +
      "ABSTRACTGATEWAY_LLM_BASE_URL, _LLM_PROVIDERS and _MEDIA_BASE_URL; bundles can reach nothing else. " +
      "Without a port, every port of the host.",
  },
  // Reliability under abuse (slow clients, backlogs)
  {
    key: "bodyIdleTimeoutS",
    env: "ABSTRACTGATEWAY_BODY_IDLE_TIMEOUT_S",
    schema: num(0.1, 3600),
    default: "10",
    allowed: "seconds, 0.1..3600",
    help: "Longest pause between two pieces of a request body (uploads too) before the request gets 408.",
  },
  {
    key: "bodyMinRateBps",
    env: "ABSTRACTGATEWAY_BODY_MIN_RATE_BPS",
    schema: int(0),
    default: "4096",
    allowed: "bytes per second >= 0 (0 = no minimum)",
    help:
      "Slowest average rate of a request body, once it has been read for BODY_IDLE_TIMEOUT_S, before 408.",
  },
  {
    key: "maxInboxDepth",
    env: "ABSTRACTGATEWAY_MAX_INBOX_DEPTH",
    schema: int(0),
    default: "50000",
    allowed: "commands >= 0 (0 = unlimited)",
    help: "Commands waiting for the runner beyond which POST /commands answers 503 with Retry-After.",
  },
  {
    key: "headerTimeoutS",
    env: "ABSTRACTGATEWAY_HEADER_TIMEOUT_S",
    schema: num(0.1, 3600),
    default: "10",
    allowed: "seconds, 0.1..3600",
    help:
      "Time a connection has to send a request's complete headers (from opening, or from the first byte " +
      "of a later request) before it is closed.",
  },
  {
    key: "idleConnTimeoutS",
    env: "ABSTRACTGATEWAY_IDLE_CONN_TIMEOUT_S",
    schema: num(0.1, 86400),
    default: "120",
    allowed: "seconds, 0.1..86400",
    help: "A connection with no byte in either direction for this long, while no request runs, is closed. " +
      "Keep it above the SSE heartbeat_s clients use (at most 60).",
  },
  {
    key: "maxConnections",
    env: "ABSTRACTGATEWAY_MAX_CONNECTIONS",
    schema: int(0),
    default: "4096",
    allowed: "connections >= 0 (0 = no cap)",
    help: "Open client connections beyond which new ones are closed at once. Each uses up to 3 file " +
      "descriptors: keep it under a third of LimitNOFILE.",
  },
  {
    key: "maxConnectionsPerIp",
    env: "ABSTRACTGATEWAY_MAX_CONNECTIONS_PER_IP",
    schema: int(0),
    default: "256",
    allowed: "connections >= 0 (0 = no cap)",
    help: "Open connections from one client address beyond which new ones are closed at once (behind a " +
      "reverse proxy every connection comes from the proxy: raise it or set 0).",
  },
  // Logging
  {
    key: "logLevel",
    env: "ABSTRACTGATEWAY_LOG_LEVEL",
    aliases: ["LOG_LEVEL"],
    schema: z.string().transform((v) => v.toLowerCase()).pipe(logLevel),
    default: "info",
    allowed: "debug | info | warn | error | none",
    help: "Level of the log lines on stderr (debug adds tick and command detail).",
  },
  {
    key: "logFormat",
    env: "ABSTRACTGATEWAY_LOG_FORMAT",
    flag: "log-format",
    commands: RUN,
    schema: z.enum(["auto", "json", "pretty"]),
    default: "auto",
    allowed: "auto | json | pretty",
    help: "Log line format: JSON objects, or readable lines (coloured on a terminal unless NO_COLOR); " +
      "auto = pretty on a terminal, JSON otherwise (systemd).",
  },
  // Command-line client
  {
    key: "url",
    env: "ABSTRACTGATEWAY_URL",
    flag: "url",
    commands: CLIENT_COMMANDS,
    schema: url,
    default: "http://127.0.0.1:8080",
    allowed: "an http(s) URL",
    help: "Gateway base URL used by `gateway runs|commands|bundles|tail`.",
  },
  {
    key: "runnerMetricsPort",
    env: "ABSTRACTGATEWAY_RUNNER_METRICS_PORT",
    flag: "metrics-port",
    commands: ["runner"],
    schema: int(0, 65535),
    default: undefined,
    allowed: "an integer 0..65535 (0 = any free port)",
    help:
      "`gateway runner` serves /metrics, /api/health and /api/health/ready on this port (ABSTRACTGATEWAY_HOST).",
  },
  // Console
  {
    key: "consoleSessionTtlS",
    env: "ABSTRACTGATEWAY_CONSOLE_SESSION_TTL_S",
    schema: int(60, 86400 * 30),
    default: "28800",
    allowed: "seconds in 60..2592000",
    help: "How long a console sign-in (browser session cookie) lasts.",
  },
  // Agent tools
  {
    key: "toolCommands",
    env: "ABSTRACTGATEWAY_TOOL_COMMANDS",
    schema: list.refine((entries) => entries.every((e) => e.startsWith("/")), "absolute executable paths"),
    default: undefined,
    allowed: "comma-separated absolute executable paths",
    help: "Programs execute_command may start (one program and its arguments, no shell); unset = tool off. " +
      "Needs the `gateway-commands` permission set naming them too (docs/security.md).",
  },
];
