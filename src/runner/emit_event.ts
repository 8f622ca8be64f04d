/** The `emit_event` command: resume every run waiting on the event's exact wait key. */
import type { CommandRecord, JsonObject, RunState } from "../runtime/types.ts";
import type { RunStore } from "../store/types.ts";
import { CommandError } from "./command_errors.ts";
import { isObject, optionalString } from "./command_payload.ts";
import { EVENT_SCOPES } from "../runtime/engine/events.ts";

const SCOPES = EVENT_SCOPES;
type Scope = typeof SCOPES[number];

export interface EventDeliveryPlan {
  waitKey: string;
  envelope: JsonObject;
}

/** Validates the payload and builds the wait key and the resume envelope (runtime-model §4.2, §4.4). */
export function planEventDelivery(cmd: CommandRecord): EventDeliveryPlan {
  const p = cmd.payload;
  const name = optionalString(p, "name");
  if (!name) throw new CommandError("emit_event requires payload.name");
  const scope = (optionalString(p, "scope") ?? "session").toLowerCase() as Scope;
  if (!SCOPES.includes(scope)) {
    throw new CommandError(
      `emit_event scope must be one of ${SCOPES.join("|")} (got ${JSON.stringify(scope)})`,
    );
  }
  const sessionId = optionalString(p, "session_id", "sessionId") ?? (cmd.run_id.trim() || null);
  const scopeId = scope === "session"
    ? sessionId
    : scope === "workflow"
    ? optionalString(p, "workflow_id", "workflowId")
    : scope === "run"
    ? optionalString(p, "run_id", "runId")
    : "global";
  if (!scopeId) {
    const field = scope === "workflow" ? "workflow_id" : scope === "run" ? "run_id" : "session_id";
    throw new CommandError(`emit_event with scope '${scope}' requires payload.${field}`);
  }
  const raw = p.payload;
  const payload: JsonObject = raw === undefined || raw === null ? {} : isObject(raw) ? raw : { value: raw };
  return {
    waitKey: `evt:${scope}:${scopeId}:${name}`,
    envelope: {
      event_id: optionalString(p, "event_id", "eventId") ?? cmd.command_id,
      name,
      scope,
      session_id: sessionId,
      payload,
      emitted_at: optionalString(p, "emitted_at", "emittedAt") ?? cmd.ts,
      emitter: { source: "external", client_id: cmd.client_id },
    },
  };
}

/** Every run WAITING on reason `event` with exactly this key (all pages). */
export async function listEventWaiters(runs: RunStore, waitKey: string): Promise<RunState[]> {
  const out: RunState[] = [];
  let cursor: string | null = null;
  do {
    const page = await runs.list({ status: "waiting", waitReason: "event", waitKey, limit: 500, cursor });
    out.push(...page.items.filter((r) => r.waiting?.wait_key === waitKey));
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}
