/** `gateway runs list|get|start|pause|resume|cancel|answer`: drive runs of a running gateway. */
import type { GatewayClient } from "../client/client.ts";
import type {
  CommandAccepted,
  JsonObject,
  RunBase,
  RunListItem,
  RunSummary,
  RunWait,
} from "../client/types.ts";
import { parseFlags, UsageError } from "./args.ts";
import {
  attempt,
  CLIENT_FLAGS_HELP,
  clientFlags,
  connect,
  jsonObjectFlag,
  output,
  positionalArgs,
  table,
} from "./remote.ts";
import { reportCommand } from "./commands_cmd.ts";

export const RUNS_HELP = [
  "Usage:",
  "  gateway runs list [--status S] [--workflow ID] [--session ID] [--limit N] [--all]",
  "  gateway runs get <run_id>",
  "  gateway runs start <bundle_id> [--flow ID] [--input JSON] [--session ID] [--idempotency-key K]",
  "  gateway runs pause|resume|cancel <run_id> [--reason TEXT] [--no-wait]",
  "  gateway runs answer <run_id> <response> [--no-wait]",
  "",
  "pause, resume, cancel and answer append a durable command and wait (up to 10 s) for the runner's",
  "outcome; exit 1 when it failed. `answer` replies to the question a run waits on (resume with its",
  "wait key).",
  "",
  "Flags:",
  "  --status S         (list) running | waiting | completed | failed | cancelled",
  "  --workflow ID      (list) Only runs of this workflow id.",
  "  --session ID       (list, start) Session id.",
  "  --limit N          (list) At most N runs (default 20).",
  "  --all              (list) Include child runs (default: root runs only).",
  "  --flow ID          (start) Entrypoint flow (default: the bundle's default entrypoint).",
  "  --input JSON       (start) Input data, a JSON object.",
  "  --idempotency-key K (start) A retried start with the same key returns the same run.",
  "  --reason TEXT      (pause, cancel) Reason recorded with the command.",
  "  --no-wait          Do not wait for the command's outcome.",
  ...CLIENT_FLAGS_HELP,
].join("\n");

const FLAGS = {
  ...clientFlags("runs"),
  status: { type: "string" as const },
  workflow: { type: "string" as const },
  session: { type: "string" as const },
  limit: { type: "string" as const },
  all: { type: "boolean" as const },
  flow: { type: "string" as const },
  input: { type: "string" as const },
  "idempotency-key": { type: "string" as const },
  reason: { type: "string" as const },
  "no-wait": { type: "boolean" as const },
};

type Values = Record<string, string | boolean | undefined>;

export async function runsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, FLAGS, true);
  const [sub, ...rest] = positionals;
  if (values.help || sub === "help") {
    console.log(RUNS_HELP);
    return 0;
  }
  const action = ACTIONS[sub ?? ""];
  if (!action) {
    throw new UsageError(
      sub === undefined ? "missing subcommand" : `unknown subcommand '${sub}'` +
        ` (${Object.keys(ACTIONS).join(", ")})`,
    );
  }
  const [names, fn] = action;
  const argv = positionalArgs(rest, names);
  return await fn(await connect(values), argv, values);
}

type Action = [string[], (client: GatewayClient, args: string[], values: Values) => Promise<number>];

const ACTIONS: Record<string, Action> = {
  list: [[], list],
  get: [["run_id"], get],
  start: [["bundle_id"], start],
  pause: [["run_id"], (c, [id], v) => control(c, id, "pause", v)],
  resume: [["run_id"], (c, [id], v) => control(c, id, "resume", v)],
  cancel: [["run_id"], (c, [id], v) => control(c, id, "cancel", v)],
  answer: [["run_id", "response"], answer],
};

async function list(client: GatewayClient, _: string[], values: Values): Promise<number> {
  const limit = Number(values.limit ?? 20);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw new UsageError("--limit must be a whole number 1..500");
  }
  const page = await attempt("list runs", () =>
    client.listRuns({
      status: values.status as RunSummary["status"] | undefined,
      workflow_id: values.workflow as string | undefined,
      session_id: values.session as string | undefined,
      root_only: !values.all,
      limit,
    }));
  output(values, page, () =>
    page.items.length === 0 ? ["No runs."] : table([
      ["RUN", "STATUS", "WORKFLOW", "UPDATED", "WAITING"],
      ...page.items.map((r) => [r.run_id, statusText(r), r.workflow_id, r.updated_at, waitText(r)]),
    ]));
  return 0;
}

async function get(client: GatewayClient, [runId]: string[], values: Values): Promise<number> {
  const run = await attempt(`get run ${runId}`, () => client.getRun(runId));
  output(values, run, () => describeRun(run));
  return 0;
}

async function start(client: GatewayClient, [bundleId]: string[], values: Values): Promise<number> {
  const { run_id } = await attempt(`start a run of ${bundleId}`, () =>
    client.startRun({
      bundle_id: bundleId,
      flow_id: values.flow as string | undefined,
      input_data: jsonObjectFlag("input", values.input) as JsonObject | undefined,
      session_id: values.session as string | undefined,
      idempotency_key: values["idempotency-key"] as string | undefined,
    }));
  output(values, { run_id }, () => [`started run ${run_id}`]);
  return 0;
}

async function control(client: GatewayClient, runId: string, type: string, values: Values): Promise<number> {
  const payload: JsonObject = values.reason === undefined ? {} : { reason: String(values.reason) };
  const sent = await attempt(`${type} run ${runId}`, () => client.command({ run_id: runId, type, payload }));
  return await settle(client, sent, values);
}

async function answer(client: GatewayClient, [runId, response]: string[], values: Values): Promise<number> {
  const run = await attempt(`answer run ${runId}`, () => client.getRun(runId));
  if (run.status !== "waiting" || !run.waiting) {
    throw new Error(`Cannot answer run ${runId}: it is ${run.status}, not waiting`);
  }
  const sent = await attempt(`answer run ${runId}`, () => client.answer(run, response));
  return await settle(client, sent, values);
}

/** Waits for the command's outcome (unless --no-wait) and reports it. */
async function settle(client: GatewayClient, sent: CommandAccepted, values: Values): Promise<number> {
  if (values["no-wait"]) {
    output(values, sent, () => [`command ${sent.command_id} accepted (seq ${sent.seq})`]);
    return 0;
  }
  const status = await attempt(`read command ${sent.command_id}`, () => client.waitCommand(sent.command_id));
  return reportCommand(status, values);
}

function statusText(run: RunBase): string {
  return run.paused ? `${run.status} (paused)` : run.status;
}

/** `user: "Approve?" [approve|reject]`, `event: approval.decision`, `until 2026-…` or "". */
export function waitText(run: RunSummary | RunListItem): string {
  const w: Partial<RunWait> | null = run.waiting;
  if (run.status !== "waiting" || !w) return "";
  if (w.reason === "until") return `until ${w.until}`;
  if (w.reason === "user" && w.prompt) {
    const choices = w.choices?.length ? ` [${w.choices.join("|")}]` : "";
    return `user: ${JSON.stringify(w.prompt)}${choices}`;
  }
  return w.wait_key ? `${w.reason}: ${w.wait_key}` : String(w.reason);
}

function describeRun(run: RunSummary): string[] {
  const rows: [string, unknown][] = [
    ["run", run.run_id],
    ["workflow", run.workflow_id],
    ["status", statusText(run)],
    ["node", run.current_node],
    ["session", run.session_id],
    ["parent", run.parent_run_id],
    ["created", run.created_at],
    ["updated", run.updated_at],
    ["ledger", run.ledger_len],
    ["waiting", waitText(run)],
    ["error", run.error],
  ];
  const lines = rows.filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => `${k.padEnd(9)} ${v}`);
  if (run.status === "waiting" && run.waiting?.reason === "user") {
    lines.push(`answer with: gateway runs answer ${run.run_id} <response>`);
  }
  return lines;
}
