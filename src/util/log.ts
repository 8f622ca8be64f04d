/**
 * Structured logs on stderr: one JSON object per line (the default off a terminal, e.g. under systemd),
 * or a readable `time LEVEL component message key=value` line, coloured on a terminal unless NO_COLOR
 * is set. Level and format from config (ABSTRACTGATEWAY_LOG_LEVEL, ABSTRACTGATEWAY_LOG_FORMAT).
 */

export type LogLevel = "debug" | "info" | "warn" | "error" | "none";
export type LogFormat = "json" | "pretty";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, none: 100 };
/** ANSI colours per level (pretty format on a terminal). */
const COLOUR: Record<Exclude<LogLevel, "none">, string> = {
  debug: "\x1b[2m",
  info: "\x1b[36m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
};
const RESET = "\x1b[0m";

let threshold: number = RANK.info;
let format: LogFormat = "json";
let colour = false;
const encoder = new TextEncoder();

export function setLogLevel(level: LogLevel): void {
  threshold = RANK[level];
}

/**
 * `auto` picks pretty on a terminal and JSON elsewhere. Colours only on a terminal without NO_COLOR
 * (https://no-color.org: any non-empty value).
 */
export function setLogFormat(wanted: LogFormat | "auto"): void {
  const terminal = Deno.stderr.isTerminal();
  format = wanted === "auto" ? (terminal ? "pretty" : "json") : wanted;
  colour = format === "pretty" && terminal && !Deno.env.get("NO_COLOR");
}

export type LogFields = Record<string, unknown>;

/** Whether lines of `level` are written now (to skip building fields no one will read). */
export const logs = (level: Exclude<LogLevel, "none">): boolean => RANK[level] >= threshold;

/** `12:00:01.234 INFO  runner  run completed run_id=… workflow_id=…` */
export function prettyLine(
  level: Exclude<LogLevel, "none">,
  component: string,
  msg: string,
  fields?: LogFields,
) {
  const time = new Date().toISOString().slice(11, 23);
  const tag = level.toUpperCase().padEnd(5);
  const pairs = Object.entries(fields ?? {}).filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === "string" && !/[\s"=]/.test(v) ? v : JSON.stringify(v)}`);
  const head = colour ? `${COLOUR[level]}${tag}${RESET}` : tag;
  return `${time} ${head} ${component.padEnd(7)} ${msg}${pairs.length ? " " + pairs.join(" ") : ""}`;
}

function write(level: Exclude<LogLevel, "none">, component: string, msg: string, fields?: LogFields): void {
  if (RANK[level] < threshold) return;
  const line = format === "pretty"
    ? prettyLine(level, component, msg, fields)
    : JSON.stringify({ ts: new Date().toISOString(), level, component, msg, ...fields });
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
