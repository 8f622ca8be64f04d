/** Entry/exit and event nodes: on_flow_start, on_flow_end, on_user_request, on_agent_message, on_event, on_schedule. */
import type { Json, JsonObject } from "../types.ts";
import { isoUtc, parseIso } from "../../util/time.ts";
import { isObject } from "../engine/json.ts";
import { ExecContext } from "./exec_context.ts";
import type { ExecFn } from "./families.ts";
import { NodeDataError } from "./families.ts";
import type { EffectOutputsFn } from "./pins.ts";

function flowStart(ctx: ExecContext): JsonObject {
  const pins = ctx.graph.declaredOutputs(ctx.node);
  if (pins.length === 0) {
    return Object.fromEntries(Object.entries(ctx.vars).filter(([k]) => !k.startsWith("_")));
  }
  const defaults = ctx.graph.pinDefaults(ctx.node);
  const out: JsonObject = {};
  for (const pin of pins) {
    if (ctx.vars[pin] !== undefined) out[pin] = ctx.vars[pin];
    else if (defaults[pin] !== undefined) {
      out[pin] = structuredClone(defaults[pin]);
      if (!pin.startsWith("_")) ctx.vars[pin] = structuredClone(defaults[pin]);
    } else out[pin] = null;
  }
  return out;
}

function entry(compute: (ctx: ExecContext) => JsonObject): ExecFn {
  return (ctx) => {
    const out = compute(ctx);
    ctx.setOutputs(out, { lastOutput: true });
    return ctx.continueOr("exec-out", ExecContext.completion(out));
  };
}

const INTERVAL = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30s`/`5m`/`100ms`… → {until: now + interval, recurrent default true}; an ISO time → one-shot. */
function scheduleUntil(schedule: string, now = Date.now()): { until: string; interval: boolean } {
  const m = schedule.trim().match(INTERVAL);
  if (m) return { until: isoUtc(new Date(now + Number(m[1]) * UNIT_MS[m[2]])), interval: true };
  const at = parseIso(schedule);
  if (Number.isNaN(at)) {
    throw new NodeDataError(
      `on_schedule: '${schedule}' is neither an interval (30s, 5m, 1h) nor an ISO time`,
    );
  }
  return { until: isoUtc(new Date(at)), interval: false };
}

export const EVENT_EXEC_NODES: Record<string, ExecFn> = {
  on_flow_start: entry(flowStart),
  on_user_request: entry((ctx) => ({
    message: ctx.vars.message ?? ctx.vars.prompt ?? null,
    context: ctx.vars.context ?? null,
  })),
  on_agent_message: entry((ctx) => {
    const cfg = isObject(ctx.node.data.eventConfig as Json) ? ctx.node.data.eventConfig as JsonObject : {};
    return {
      sender: ctx.vars.sender ?? null,
      message: ctx.vars.message ?? null,
      channel: cfg.channel ?? null,
    };
  }),
  on_flow_end: (ctx) => {
    const i = ctx.inputs();
    const declared = ctx.graph.declaredInputs(ctx.node);
    // no declared pins: upstream ends with everything the node received (the data bus)
    const out: JsonObject = declared.length === 0 ? { ...i } : {};
    for (const pin of declared) out[pin] = i[pin] ?? null;
    out.success = true;
    ctx.setOutputs(out, { lastOutput: true });
    return { node_id: ctx.node.id, complete_output: out };
  },
  on_event: (ctx) => {
    ctx.consumeReturn();
    ctx.pushSelf();
    const cfg = isObject(ctx.node.data.eventConfig as Json) ? ctx.node.data.eventConfig as JsonObject : {};
    const name = typeof cfg.name === "string" && cfg.name.trim() ? cfg.name.trim() : "*";
    const scope = typeof cfg.scope === "string" && cfg.scope ? cfg.scope : "session";
    const next = ctx.successor() ?? ctx.node.id;
    return {
      node_id: ctx.node.id,
      effect: {
        type: "wait_event",
        payload: { type: "wait_event", scope, name, resume_to_node: next },
        result_key: `_temp.effects.${ctx.node.id}`,
      },
      next_node: next,
    };
  },
  on_schedule: (ctx) => {
    ctx.consumeReturn();
    const cfg = isObject(ctx.node.data.eventConfig as Json) ? ctx.node.data.eventConfig as JsonObject : {};
    const i = ctx.inputs();
    const schedule = String(cfg.schedule ?? i.schedule ?? "15s");
    const { until, interval } = scheduleUntil(schedule);
    const recurrent = typeof cfg.recurrent === "boolean" ? cfg.recurrent : interval;
    if (recurrent) ctx.pushSelf();
    const successor = ctx.successor();
    ctx.setOutputs({ timestamp: until, recurrent }, { lastOutput: false });
    return ctx.effect({
      type: "wait_until",
      payload: { type: "wait_until", until, resume_to_node: successor },
      result_key: `_temp.effects.${ctx.node.id}`,
    }, successor);
  },
};

export const EVENT_OUTPUTS: Record<string, EffectOutputsFn> = {
  on_event: (result) => {
    const env = isObject(result) ? result : {};
    return {
      event: env,
      payload: env.payload ?? null,
      event_id: env.event_id ?? null,
      name: env.name ?? null,
    };
  },
};
