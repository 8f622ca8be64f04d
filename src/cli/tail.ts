/** `gateway tail <run_id>`: prints a run's ledger records live, replaying first, reconnecting after drops. */
import { GatewayClient } from "../client/client.ts";
import type { StepRecord } from "../runtime/types.ts";
import { parseFlags, UsageError } from "./args.ts";
import { untilSignal } from "./signals.ts";

export const TAIL_HELP = [
  "Usage: gateway tail <run_id> [--url URL] [--token TOKEN] [--after N] [--json]",
  "",
  "Prints the run's ledger from cursor N (default 0), then new records as they are appended, until the",
  "run ends. Reconnects from its last cursor after any disconnect, so no record is missed or repeated.",
  "",
  "Flags:",
  "  --url URL          Gateway base URL (env ABSTRACTGATEWAY_URL, default http://127.0.0.1:8080).",
  "  --token TOKEN      Bearer token (env ABSTRACTGATEWAY_AUTH_TOKEN).",
  "  --after N          Start after the first N records.",
  "  --json             One JSON object per line: {cursor, record}.",
].join("\n");

export async function tailCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    url: { type: "string" },
    token: { type: "string" },
    after: { type: "string" },
    json: { type: "boolean" },
  }, true);
  if (values.help) {
    console.log(TAIL_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("expected exactly one run id");
  const after = Number(values.after ?? "0");
  if (!Number.isInteger(after) || after < 0) throw new UsageError("--after must be a whole number >= 0");
  const client = new GatewayClient({
    baseUrl: String(values.url ?? Deno.env.get("ABSTRACTGATEWAY_URL") ?? "http://127.0.0.1:8080"),
    token: (values.token as string | undefined) ??
      Deno.env.get("ABSTRACTGATEWAY_AUTH_TOKEN")?.split(",")[0]?.trim(),
  });
  const abort = new AbortController();
  untilSignal().then(() => abort.abort());
  for await (const { cursor, record } of client.follow(positionals[0], { after, signal: abort.signal })) {
    console.log(values.json ? JSON.stringify({ cursor, record }) : formatRecord(cursor, record));
  }
  return 0;
}

/** `#12 completed node-3 llm_call  {"content":"…"}` — one readable line per record. */
export function formatRecord(cursor: number, record: StepRecord): string {
  const what = record.effect?.type ?? "-";
  const detail = record.error ?? (record.result === null ? "" : JSON.stringify(record.result));
  const short = detail.length > 160 ? `${detail.slice(0, 157)}...` : detail;
  return `#${cursor} ${record.status.padEnd(9)} ${record.node_id} ${what}${short ? `  ${short}` : ""}`;
}
