/** `gateway commands send|get`: append a durable command, read a command's outcome. */
import type { CommandStatus, JsonObject } from "../client/types.ts";
import { parseFlags, UsageError } from "./args.ts";
import * as remote from "./remote.ts";

export const COMMANDS_HELP = [
  "Usage:",
  "  gateway commands send <run_id> <type> [--payload JSON] [--command-id ID] [--wait]",
  "  gateway commands get <command_id>",
  "",
  "Types: pause, resume, cancel, emit_event (run_id may be a session id), update_schedule, compact_memory.",
  "`send` prints the command id and seq; with --wait it waits (up to 10 s) for the runner's outcome and",
  "exits 1 when the command failed. A repeated --command-id is idempotent (answers the original seq).",
  "",
  "Flags:",
  "  --payload JSON     The command payload, a JSON object (default {}).",
  "  --command-id ID    Idempotency key (default: a new UUID).",
  "  --wait             Wait for the outcome.",
  ...remote.CLIENT_FLAGS_HELP,
].join("\n");

export async function commandsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    ...remote.clientFlags("commands"),
    payload: { type: "string" },
    "command-id": { type: "string" },
    wait: { type: "boolean" },
  }, true);
  const [sub, ...rest] = positionals;
  if (values.help || sub === "help") {
    console.log(COMMANDS_HELP);
    return 0;
  }
  if (sub === "send") {
    const [runId, type] = remote.positionalArgs(rest, ["run_id", "type"]);
    const payload = remote.jsonObjectFlag("payload", values.payload) as JsonObject | undefined;
    const client = await remote.connect(values);
    const sent = await remote.attempt(`send ${type} to ${runId}`, () =>
      client.command({
        run_id: runId,
        type,
        payload,
        command_id: values["command-id"] as string | undefined,
      }));
    if (!values.wait) {
      const note = sent.duplicate ? " (duplicate: already accepted)" : "";
      remote.output(values, sent, () => [`command ${sent.command_id} accepted, seq ${sent.seq}${note}`]);
      return 0;
    }
    return reportCommand(await client.waitCommand(sent.command_id), values);
  }
  if (sub === "get") {
    const [commandId] = remote.positionalArgs(rest, ["command_id"]);
    const client = await remote.connect(values);
    const status = await remote.attempt(`get command ${commandId}`, () => client.commandStatus(commandId));
    remote.output(values, status, () => commandLines(status));
    return 0;
  }
  throw new UsageError(
    sub === undefined ? "missing subcommand (send or get)" : `unknown subcommand '${sub}'`,
  );
}

/** Prints a command's outcome; exit 1 when it failed (pending after the wait is 0: it stays queued). */
export function reportCommand(status: CommandStatus, values: Record<string, unknown>): number {
  remote.output(values, status, () => {
    const what = `${status.type} on ${status.run_id}`;
    if (status.status === "applied") return [`${what}: applied (command ${status.command_id})`];
    if (status.status === "failed") {
      return [`${what}: failed: ${status.error} (command ${status.command_id})`];
    }
    return [`${what}: still pending (no runner applied it yet; command ${status.command_id})`];
  });
  return status.status === "failed" ? 1 : 0;
}

function commandLines(s: CommandStatus): string[] {
  return [
    `command  ${s.command_id}`,
    `seq      ${s.seq}`,
    `run      ${s.run_id}`,
    `type     ${s.type}`,
    `payload  ${JSON.stringify(s.payload)}`,
    `sent     ${s.ts}`,
    `status   ${s.status}${s.applied_at ? ` at ${s.applied_at}` : ""}`,
    ...(s.error ? [`error    ${s.error}`] : []),
  ];
}
