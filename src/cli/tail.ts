/** `gateway tail <run_id>`: prints a run's ledger records live, replaying first, reconnecting after drops. */
import { FollowError, GatewayClient } from "../client/client.ts";
import type { StepRecord } from "../runtime/types.ts";
import { parseFlags, UsageError } from "./args.ts";
import { untilSignal } from "./signals.ts";

export const TAIL_HELP = [
  "Usage: gateway tail <run_id> [--url URL] [--token TOKEN] [--after N] [--json] [--give-up-after S]",
  "",
  "Prints the run's ledger from cursor N (default 0), then new records as they are appended, until the",
  "run ends. Reconnects from its last cursor after any disconnect, so no record is missed or repeated.",
  "Each failed attempt is reported on stderr with its reason; after S seconds without success it exits 1.",
  "A wrong token (401/403) or an unknown run (404) exits 1 at once.",
  "",
  "Flags:",
  "  --url URL          Gateway base URL (env ABSTRACTGATEWAY_URL, default http://127.0.0.1:8080).",
  "  --token TOKEN      Bearer token (env ABSTRACTGATEWAY_AUTH_TOKEN).",
  "  --after N          Start after the first N records.",
  "  --json             One JSON object per line: {cursor, record}.",
  "  --give-up-after S  Seconds of failed attempts before giving up (default 30).",
].join("\n");

export async function tailCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    url: { type: "string" },
    token: { type: "string" },
    after: { type: "string" },
    json: { type: "boolean" },
    "give-up-after": { type: "string" },
  }, true);
  if (values.help) {
    console.log(TAIL_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("expected exactly one run id");
  const after = Number(values.after ?? "0");
  if (!Number.isInteger(after) || after < 0) throw new UsageError("--after must be a whole number >= 0");
  const giveUpS = Number(values["give-up-after"] ?? "30");
  if (!(giveUpS > 0)) throw new UsageError("--give-up-after must be a number of seconds > 0");
  const client = new GatewayClient({
    baseUrl: String(values.url ?? Deno.env.get("ABSTRACTGATEWAY_URL") ?? "http://127.0.0.1:8080"),
    token: (values.token as string | undefined) ??
      Deno.env.get("ABSTRACTGATEWAY_AUTH_TOKEN")?.split(",")[0]?.trim(),
  });
  const abort = new AbortController();
  untilSignal().then(() => abort.abort());
  const following = client.follow(positionals[0], {
    after,
    signal: abort.signal,
    giveUpAfterMs: giveUpS * 1000,
    onRetry: ({ attempt, reason, delayMs, remainingMs }) =>
      console.error(
        `gateway tail: attempt ${attempt} failed: ${reason}; retrying in ${(delayMs / 1000).toFixed(1)} s ` +
          `(giving up in ${Math.ceil(remainingMs / 1000)} s)`,
      ),
  });
  try {
    for await (const { cursor, record } of following) {
      console.log(values.json ? JSON.stringify({ cursor, record }) : formatRecord(cursor, record));
    }
  } catch (err) {
    if (!(err instanceof FollowError)) throw err;
    console.error(`gateway tail: ${err.message}`);
    return 1;
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
