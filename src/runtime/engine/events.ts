/** Event wait keys, EMIT_EVENT delivery inside runs and external emit_event (runtime-model.md §4.2, §4.4). */
import type { EventDelivery, ExternalEvent } from "../runtime.ts";
import type { EffectHandler } from "../spec.ts";
import type { Json, JsonObject, RunState } from "../types.ts";
import { nowIso } from "../../util/time.ts";
import { errorText } from "../../util/log.ts";
import { RuntimeError } from "../errors.ts";
import type { EngineHost } from "./host.ts";
import { newId } from "./idempotency.ts";
import { isObject } from "./json.ts";
import { isPaused } from "./run_vars.ts";

export const EVENT_SCOPES = ["session", "workflow", "run", "global"] as const;

export function eventWaitKey(scope: string, scopeId: string, name: string): string {
  const s = scope.trim().toLowerCase();
  if (!(EVENT_SCOPES as readonly string[]).includes(s)) {
    throw new RuntimeError(
      "invalid_request",
      `unknown event scope '${scope}' (allowed: ${EVENT_SCOPES.join(", ")})`,
    );
  }
  if (!scopeId) throw new RuntimeError("invalid_request", `event scope '${s}' needs a non-empty scope id`);
  return `evt:${s}:${scopeId}:${name}`;
}

/** The scope id a run uses for its own events: session → its session, workflow → its workflow, … */
export function scopeIdFor(run: RunState, scope: string, sessionOverride?: Json): string {
  switch (scope.trim().toLowerCase()) {
    case "workflow":
      return run.workflow_id;
    case "run":
      return run.run_id;
    case "global":
      return "global";
    default:
      return typeof sessionOverride === "string" && sessionOverride !== ""
        ? sessionOverride
        : run.session_id || run.run_id;
  }
}

export const eventPayloadObject = (payload: Json | undefined): JsonObject =>
  isObject(payload) ? payload : payload === undefined || payload === null ? {} : { value: payload };

/** Every non-paused run WAITING(event) on exactly `waitKey`, across store pages. */
async function listeners(host: EngineHost, waitKey: string): Promise<RunState[]> {
  const out: RunState[] = [];
  let cursor: string | null = null;
  do {
    const page = await host.stores.runs.list({
      status: "waiting",
      waitReason: "event",
      waitKey,
      cursor,
      limit: 200,
    });
    out.push(...page.items.filter((r) => r.waiting?.wait_key === waitKey && !isPaused(r)));
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

export async function deliverEvent(
  host: EngineHost,
  waitKeys: string[],
  envelope: JsonObject,
  maxSteps: number,
): Promise<EventDelivery> {
  const delivery: EventDelivery = { wait_key: waitKeys[0], delivered: 0, resumed: [], errors: [] };
  const seen = new Set<string>();
  for (const key of waitKeys) {
    for (const run of await listeners(host, key)) {
      if (seen.has(run.run_id)) continue;
      seen.add(run.run_id);
      try {
        const resumed = await host.resume(run.run_id, { waitKey: key, payload: envelope, maxSteps });
        delivery.delivered++;
        delivery.resumed.push({ run_id: run.run_id, status: resumed.status });
      } catch (err) {
        delivery.errors.push({ run_id: run.run_id, error: errorText(err) });
      }
    }
  }
  return delivery;
}

/** External `emit_event` command: exact key match only (no wildcard), `max_steps = 0`. */
export async function emitExternalEvent(host: EngineHost, event: ExternalEvent): Promise<EventDelivery> {
  const scope = (event.scope ?? "session").toLowerCase();
  const scopeId = scope === "global"
    ? "global"
    : scope === "workflow"
    ? event.workflowId ?? ""
    : scope === "run"
    ? event.runId ?? ""
    : event.sessionId ?? event.runId ?? "";
  const waitKey = eventWaitKey(scope, scopeId, event.name);
  const envelope: JsonObject = {
    event_id: event.eventId || newId(),
    name: event.name,
    scope,
    session_id: scope === "session" ? scopeId : event.sessionId ?? null,
    payload: eventPayloadObject(event.payload),
    emitted_at: event.emittedAt || nowIso(),
    emitter: { source: "external", client_id: event.clientId ?? null },
  };
  return await deliverEvent(host, [waitKey], envelope, 0);
}

/** EMIT_EVENT effect: resumes listeners on the exact key and on the `*` wildcard key. */
export function emitEventHandler(host: EngineHost): EffectHandler {
  return async ({ run, effect, node_id }) => {
    const p = effect.payload;
    const name = typeof p.name === "string" ? p.name.trim() : "";
    if (!name) return { status: "failed", error: "emit_event requires a non-empty 'name'" };
    const scope = typeof p.scope === "string" && p.scope ? p.scope.toLowerCase() : "session";
    const scopeId = scopeIdFor(run, scope, p.session_id);
    const waitKey = eventWaitKey(scope, scopeId, name);
    const envelope: JsonObject = {
      event_id: typeof p.event_id === "string" && p.event_id ? p.event_id : newId(),
      name,
      scope,
      session_id: scope === "session" ? scopeId : run.session_id,
      payload: eventPayloadObject(p.payload),
      emitted_at: nowIso(),
      emitter: { run_id: run.run_id, workflow_id: run.workflow_id, node_id },
    };
    const maxSteps = typeof p.max_steps === "number" ? p.max_steps : 0;
    const d = await deliverEvent(host, [waitKey, eventWaitKey(scope, scopeId, "*")], envelope, maxSteps);
    const result: JsonObject = {
      wait_key: waitKey,
      name,
      scope,
      delivered: d.delivered,
      delivered_to: d.resumed.map((r) => r.run_id),
      resumed: d.resumed.map((r) => ({ run_id: r.run_id, status: r.status })),
    };
    if (d.errors.length > 0) result.errors = d.errors.map((e) => ({ run_id: e.run_id, error: e.error }));
    return { status: "completed", result };
  };
}
