/** Structured logs: one JSON object per line on stderr. Level from config (ABSTRACTGATEWAY_LOG_LEVEL). */

export type LogLevel = "debug" | "info" | "warn" | "error" | "none";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, none: 100 };

let threshold: number = RANK.info;
const encoder = new TextEncoder();

export function setLogLevel(level: LogLevel): void {
  threshold = RANK[level];
}

export type LogFields = Record<string, unknown>;

function write(level: Exclude<LogLevel, "none">, component: string, msg: string, fields?: LogFields): void {
  if (RANK[level] < threshold) return;
  const line = JSON.stringify({ ts: new Date().toISOString(), level, component, msg, ...fields });
  try {
    Deno.stderr.writeSync(encoder.encode(line + "\n"));
  } catch {
    // stderr closed: nothing sensible left to do with a log line
  }
}

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** A logger whose lines carry `component` (e.g. "http", "runner", "store"). */
export function logger(component: string): Logger {
  return {
    debug: (msg, fields) => write("debug", component, msg, fields),
    info: (msg, fields) => write("info", component, msg, fields),
    warn: (msg, fields) => write("warn", component, msg, fields),
    error: (msg, fields) => write("error", component, msg, fields),
  };
}

/** Error text for logs and failure records, never a stack trace. */
export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
