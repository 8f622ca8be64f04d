/** Effect nodes (§7.4, §7.6): build the pending effect from resolved pins; map results back to output pins. */
import type { Json, JsonObject } from "../types.ts";
import { isoUtc, parseIso } from "../../util/time.ts";
import { isObject, objectAt } from "../engine/json.ts";
import { EVENT_SCOPES } from "../engine/events.ts";
import { addFlowWarning } from "../engine/run_vars.ts";
import type { ExecContext } from "./exec_context.ts";
import type { ExecFn } from "./families.ts";
import { NodeDataError } from "./families.ts";
import type { EffectOutputsFn } from "./pins.ts";
import { pyStr, truthy } from "./py.ts";

const resultKey = (nodeId: string): string => `_temp.effects.${nodeId}`;

export const configOf = (
  ctx: ExecContext,
  key: "effectConfig" | "agentConfig" | "eventConfig",
): JsonObject => {
  const v = ctx.node.data[key] as Json | undefined;
  return isObject(v) ? v : {};
};

const nonEmpty = (
  v: Json | undefined,
): string | null => (typeof v === "string" && v.trim() ? v.trim() : null);

/** Emits `type` with `payload + resume_to_node` (the stray keys UIs display verbatim). */
function emit(ctx: ExecContext, type: string, body: JsonObject) {
  const successor = ctx.successor();
  return ctx.effect(
    { type, payload: { type, ...body, resume_to_node: successor }, result_key: resultKey(ctx.node.id) },
    successor,
  );
}

/** Active context for include_context calls: context system messages, the node system prompt, history, the prompt. */
function contextMessages(ctx: ExecContext, system: Json, prompt: Json, override: Json | undefined): Json[] {
  const source = isObject(override) && Array.isArray(override.messages)
    ? override.messages
    : isObject(ctx.vars.context) && Array.isArray(ctx.vars.context.messages)
    ? ctx.vars.context.messages
    : [];
  const isSystem = (m: Json) => isObject(m) && m.role === "system";
  const out: Json[] = source.filter(isSystem).map((m) => structuredClone(m));
  if (typeof system === "string" && system !== "") out.push({ role: "system", content: system });
  out.push(...source.filter((m) => !isSystem(m)).map((m) => structuredClone(m)));
  out.push({ role: "user", content: typeof prompt === "string" ? prompt : pyStr(prompt ?? "") });
  return out;
}

function llmCall(ctx: ExecContext) {
  const i = ctx.inputs();
  const cfg = configOf(ctx, "effectConfig");
  const provider = nonEmpty(i.provider) ?? nonEmpty(cfg.provider);
  const model = nonEmpty(i.model) ?? nonEmpty(cfg.model);
  const params: JsonObject = { temperature: typeof i.temperature === "number" ? i.temperature : 0.7 };
  if (typeof i.seed === "number" && i.seed >= 0) params.seed = i.seed;
  if (typeof i.max_out_tokens === "number") params.max_output_tokens = i.max_out_tokens;
  const includeContext = truthy(i.use_context ?? i.include_context);
  const body: JsonObject = {
    prompt: i.prompt ?? "",
    system_prompt: "system" in i ? i.system : "",
    tools: Array.isArray(i.tools) ? i.tools : [],
    params,
  };
  if (provider && model) {
    body.provider = provider;
    body.model = model;
  } else if (provider || model) {
    addFlowWarning(
      ctx.vars,
      `#WARN: llm_call ${ctx.node.id}: provider and model must both be set; using the host default`,
    );
  }
  body.include_context = includeContext;
  if (isObject(i.resp_schema)) {
    body.response_schema = i.resp_schema;
    body.response_schema_name = "LLM_StructuredOutput"; // upstream names every llm_call schema this way
  }
  if (typeof i.max_in_tokens === "number") body.max_input_tokens = i.max_in_tokens;
  if (includeContext) {
    body.messages = contextMessages(ctx, body.system_prompt, body.prompt, i.context);
    delete body.prompt;
    delete body.system_prompt;
  }
  return emit(ctx, "llm_call", body);
}

function llmOutputs(result: Json): JsonObject {
  const r = isObject(result) ? result : {};
  const structured = r.data !== undefined && r.data !== null;
  const toolCalls = Array.isArray(r.tool_calls) ? r.tool_calls : [];
  const meta: JsonObject = {
    schema: "abstractflow.llm_call.v1.meta",
    version: 1,
    output_mode: structured ? "structured" : "unstructured",
    tool_calls: toolCalls.length,
  };
  for (const k of ["provider", "model", "finish_reason", "usage"]) {
    if (r[k] !== undefined && r[k] !== null) meta[k] = r[k];
  }
  if (typeof r.trace_id === "string") meta.trace = { trace_id: r.trace_id };
  for (const k of ["gen_time", "ttft_ms"]) if (r[k] !== undefined && r[k] !== null) meta[k] = r[k];
  return {
    response: structured ? JSON.stringify(r.data) : (typeof r.content === "string" ? r.content : ""),
    data: r.data ?? null,
    tool_calls: toolCalls,
    success: true,
    meta,
  };
}

function emitEvent(ctx: ExecContext) {
  const i = ctx.inputs();
  const cfg = configOf(ctx, "effectConfig");
  const name = nonEmpty(i.name) ?? nonEmpty(cfg.name);
  if (!name) throw new NodeDataError(`emit_event '${ctx.node.id}': event name is required`);
  const rawScope = (nonEmpty(i.scope) ?? nonEmpty(cfg.scope) ?? "session").toLowerCase();
  const scope = (EVENT_SCOPES as readonly string[]).includes(rawScope) ? rawScope : "session";
  const p = i.payload;
  const payload: Json = isObject(p) ? p : p === undefined || p === null ? {} : { value: p };
  const seqs = objectAt(ctx.vars, "_temp.event_seq");
  const seq = (typeof seqs[ctx.node.id] === "number" ? seqs[ctx.node.id] as number : 0) + 1;
  seqs[ctx.node.id] = seq;
  const body: JsonObject = { scope, name, payload };
  const sessionId = nonEmpty(i.session_id) ?? nonEmpty(cfg.sessionId);
  if (sessionId) body.session_id = sessionId;
  body.event_id = `${ctx.run.run_id}:${ctx.node.id}:${seq}`;
  body.max_steps = 0;
  const successor = ctx.successor();
  return ctx.effect({ type: "emit_event", payload: body, result_key: resultKey(ctx.node.id) }, successor);
}

const DURATION_MS: Record<string, number> = { seconds: 1000, minutes: 60_000, hours: 3_600_000 };

function waitUntil(ctx: ExecContext) {
  const i = ctx.inputs();
  const kind = String(configOf(ctx, "effectConfig").durationType ?? "seconds");
  let until: string;
  if (kind === "timestamp") {
    const at = typeof i.duration === "string" ? parseIso(i.duration) : NaN;
    if (Number.isNaN(at)) {
      throw new NodeDataError(`wait_until '${ctx.node.id}': duration is not an ISO timestamp`);
    }
    until = isoUtc(new Date(at));
  } else {
    const n = typeof i.duration === "number" ? i.duration : Number(i.duration);
    const amount = Number.isFinite(n) ? n : 0;
    until = isoUtc(new Date(Date.now() + amount * (DURATION_MS[kind] ?? 1000)));
  }
  return emit(ctx, "wait_until", { until });
}

function subflowVars(ctx: ExecContext, i: JsonObject): JsonObject {
  const base = isObject(i.vars) ? i.vars : isObject(i.input) ? i.input : {};
  const vars: JsonObject = structuredClone(base);
  const control = new Set(["inherit_context", "input", "vars", "child_session_id", "session_id"]);
  for (const pin of ctx.graph.declaredInputs(ctx.node)) {
    if (!control.has(pin) && i[pin] !== undefined) vars[pin] = structuredClone(i[pin]);
  }
  return vars;
}

function subflow(ctx: ExecContext) {
  const i = ctx.inputs();
  const d = ctx.node.data;
  const workflowId = [d.subflowId, d.flowId, d.workflowId, d.workflow_id].find((v) =>
    typeof v === "string" && v
  );
  if (typeof workflowId !== "string") {
    throw new NodeDataError(`subflow '${ctx.node.id}': no subflow selected`);
  }
  const vars = subflowVars(ctx, i);
  const inherit = truthy(i.inherit_context ?? configOf(ctx, "effectConfig").inherit_context);
  if (inherit && isObject(ctx.vars.context)) {
    const own = isObject(vars.context) && Array.isArray(vars.context.messages) ? vars.context.messages : [];
    const parent = Array.isArray(ctx.vars.context.messages) ? ctx.vars.context.messages : [];
    const ids = new Set(
      own.map((m) => isObject(m) && isObject(m.metadata) ? m.metadata.message_id : undefined),
    );
    const merged = [
      ...parent.filter((m) => !(isObject(m) && isObject(m.metadata) && ids.has(m.metadata.message_id))),
      ...own,
    ];
    vars.context = { ...(isObject(vars.context) ? vars.context : {}), messages: structuredClone(merged) };
  }
  const body: JsonObject = { workflow_id: workflowId, vars, async: true, wait: true };
  const session = nonEmpty(i.child_session_id) ?? nonEmpty(i.session_id);
  if (session) body.session_id = session;
  if (inherit) body.inherit_context = true;
  return emit(ctx, "start_subworkflow", body);
}

const subflowOutputs: EffectOutputsFn = (result, node) => {
  const r = isObject(result) ? result : {};
  const output = r.output ?? null;
  const pins = node.outputs.filter((p) => p.type !== "execution").map((p) => p.id);
  const out: JsonObject = {};
  const main = isObject(output) && "result" in output ? output.result : output;
  for (const pin of pins) {
    if (pin === "output") out.output = main;
    else if (isObject(output)) out[pin] = output[pin] ?? null;
    else if (pins.length === 1) out[pin] = output;
  }
  if (!pins.includes("output")) out.output = main;
  return out;
};

export const EFFECT_EXEC_NODES: Record<string, ExecFn> = {
  llm_call: llmCall,
  ask_user: (ctx) => {
    const i = ctx.inputs();
    const cfg = configOf(ctx, "effectConfig");
    return emit(ctx, "ask_user", {
      prompt: nonEmpty(i.prompt) ?? "Please respond:",
      choices: Array.isArray(i.choices) ? i.choices : [],
      allow_free_text: cfg.allowFreeText !== false,
    });
  },
  answer_user: (ctx) => {
    const i = ctx.inputs();
    const message = i.message === undefined || i.message === null
      ? ""
      : typeof i.message === "string"
      ? i.message
      : pyStr(i.message);
    return emit(ctx, "answer_user", { message, level: nonEmpty(i.level) ?? "message" });
  },
  emit_event: emitEvent,
  wait_until: waitUntil,
  wait_event: (ctx) => {
    const i = ctx.inputs();
    const body: JsonObject = { wait_key: nonEmpty(i.event_key) ?? "default" };
    if (nonEmpty(i.prompt)) body.prompt = i.prompt;
    if (Array.isArray(i.choices)) body.choices = i.choices;
    body.allow_free_text = configOf(ctx, "effectConfig").allowFreeText !== false;
    return emit(ctx, "wait_event", body);
  },
  subflow,
};

const merge: EffectOutputsFn = (result) => (isObject(result) ? { ...result } : { result });

export const EFFECT_OUTPUTS: Record<string, EffectOutputsFn> = {
  llm_call: llmOutputs,
  ask_user: (result) => {
    const r = isObject(result) ? result : {};
    return { ...r, response: r.response ?? null };
  },
  answer_user: (result) => ({ message: isObject(result) ? result.message ?? null : null }),
  emit_event: merge,
  wait_until: merge,
  wait_event: (result) => ({ event_data: result ?? null }),
  subflow: subflowOutputs,
};
