/**
 * Agent node (runtime-model.md §9.3), parent side. Phases in `_temp.agent.<node>`:
 * init → START_SUBWORKFLOW of the ReAct child (async+wait, re-enters this node) → optional structured
 * LLM_CALL when a response schema is set → done (outputs; a later entry starts a fresh invocation).
 */
import type { StepPlan } from "../spec.ts";
import type { Effect, Json, JsonObject } from "../types.ts";
import { getPath, isObject, objectAt } from "../engine/json.ts";
import { addFlowWarning, DEFAULT_LIMITS } from "../engine/run_vars.ts";
import { parseJsonText } from "./json_text.ts";
import { ExecContext } from "./exec_context.ts";
import type { ExecFn } from "./families.ts";
import { configOf } from "./effects.ts";
import { truthy } from "./py.ts";
import { observationContent } from "../llm/react_prompt.ts";

const nonEmpty = (v: Json | undefined): string | null =>
  typeof v === "string" && v.trim() && v.trim().toLowerCase() !== "default" ? v.trim() : null;

const toolNames = (v: Json | undefined): Json[] =>
  Array.isArray(v)
    ? v.map((t) => (isObject(t) && typeof t.name === "string" ? t.name : t)).filter((t) =>
      typeof t === "string"
    )
    : [];

function resolve(ctx: ExecContext): JsonObject | string {
  const i = ctx.inputs();
  const cfg = configOf(ctx, "agentConfig");
  const runtime = isObject(ctx.vars._runtime) ? ctx.vars._runtime : {};
  let provider = nonEmpty(i.provider) ?? nonEmpty(cfg.provider);
  let model = nonEmpty(i.model) ?? nonEmpty(cfg.model);
  if (!provider && nonEmpty(runtime.provider)) {
    provider = nonEmpty(runtime.provider);
    addFlowWarning(ctx.vars, `#FALLBACK: agent ${ctx.node.id}: provider from the run's _runtime`);
  }
  if (!model && nonEmpty(runtime.model)) {
    model = nonEmpty(runtime.model);
    addFlowWarning(ctx.vars, `#FALLBACK: agent ${ctx.node.id}: model from the run's _runtime`);
  }
  if (!provider || !model) return `agent ${ctx.node.id}: no provider/model configured`;
  const wiredTools = ctx.graph.dataIn.get(ctx.node.id)?.has("tools") ?? false;
  const outputSchema = isObject(cfg.outputSchema) && cfg.outputSchema.enabled === true
    ? cfg.outputSchema.jsonSchema
    : null;
  const schema = isObject(i.resp_schema) ? i.resp_schema : isObject(outputSchema) ? outputSchema : null;
  return {
    task: typeof i.prompt === "string"
      ? i.prompt
      : i.prompt === undefined || i.prompt === null
      ? ""
      : JSON.stringify(i.prompt),
    context: isObject(i.context) ? i.context : {},
    provider,
    model,
    system: typeof i.system === "string" ? i.system : null,
    tools: toolNames(wiredTools ? i.tools : cfg.tools ?? i.tools),
    max_iterations: typeof i.max_iterations === "number" ? i.max_iterations : 25,
    max_in_tokens: typeof i.max_in_tokens === "number" ? i.max_in_tokens : null,
    temperature: typeof i.temperature === "number" ? i.temperature : 0.7,
    seed: typeof i.seed === "number" ? i.seed : -1,
    include_context: truthy(i.use_context),
    resp_schema: schema,
  };
}

function childVars(ctx: ExecContext, r: JsonObject): JsonObject {
  const inherited =
    r.include_context && isObject(ctx.vars.context) && Array.isArray(ctx.vars.context.messages)
      ? ctx.vars.context.messages
      : [];
  const pinMessages = isObject(r.context) && Array.isArray(r.context.messages) ? r.context.messages : [];
  const runtime: JsonObject = { inbox: [], provider: r.provider, model: r.model, allowed_tools: r.tools };
  if (r.system) runtime.system_prompt_extra = r.system;
  if (r.temperature !== 0.7) runtime.temperature = r.temperature;
  if (typeof r.seed === "number" && r.seed >= 0) runtime.seed = r.seed;
  const limits = isObject(ctx.vars._limits) ? ctx.vars._limits : DEFAULT_LIMITS;
  return structuredClone({
    context: { task: r.task, messages: [...inherited, ...pinMessages] },
    scratchpad: { iteration: 0, max_iterations: r.max_iterations },
    _runtime: runtime,
    _temp: {},
    _limits: {
      ...limits,
      max_iterations: r.max_iterations,
      current_iteration: 0,
      estimated_tokens_used: 0,
      max_input_tokens: r.max_in_tokens ?? limits.max_input_tokens ?? null,
    },
  });
}

function flattenSteps(traces: Json | undefined): JsonObject[] {
  if (!isObject(traces)) return [];
  const steps = Object.values(traces).flatMap((t) => (isObject(t) && Array.isArray(t.steps) ? t.steps : []));
  return steps.filter(isObject).sort((a, b) => String(a.ts).localeCompare(String(b.ts)));
}

function toolActivity(steps: JsonObject[]): { calls: Json[]; results: Json[] } {
  const calls: Json[] = [], results: Json[] = [];
  for (const s of steps) {
    const effect = isObject(s.effect) ? s.effect : {};
    if (effect.type !== "tool_calls" || s.status !== "completed") continue;
    const payload = isObject(effect.payload) ? effect.payload : {};
    if (Array.isArray(payload.tool_calls)) calls.push(...payload.tool_calls);
    const res = isObject(s.result) && Array.isArray(s.result.results) ? s.result.results : [];
    results.push(...res);
  }
  return { calls, results };
}

/**
 * The child's tool observations as its own history holds them (`[name]: output`, `[name]: Error: …`),
 * else rendered the same way from the traced results.
 */
function observations(messages: Json[], results: Json[]): string[] {
  const fromHistory = messages.filter((m): m is JsonObject => isObject(m) && m.role === "tool")
    .map((m) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content ?? null)));
  return fromHistory.length ? fromHistory : results.filter(isObject).map(observationContent);
}

function appendTurn(
  ctx: ExecContext,
  b: JsonObject,
  subRunId: string,
  answer: string,
  toolObservations: string[],
): void {
  const context = objectAt(ctx.vars, "context");
  const messages = Array.isArray(context.messages) ? context.messages : [];
  const meta = (kind: string, suffix: string): JsonObject => ({
    kind,
    node_id: ctx.node.id,
    message_id: `agent:${subRunId}:${ctx.node.id}:${suffix}`,
    sub_run_id: subRunId,
  });
  const task = getPath(b, "resolved_inputs.task");
  messages.push({
    role: "user",
    content: typeof task === "string" ? task : "",
    metadata: meta("agent_turn", "task"),
  });
  toolObservations.slice(0, 20).forEach((text, n) => {
    messages.push({
      role: "assistant",
      content: text.slice(0, 2000),
      metadata: meta("tool_observation", `obs:${n + 1}`),
    });
  });
  messages.push({ role: "assistant", content: answer, metadata: meta("agent_turn", "answer") });
  context.messages = messages;
}

function structuredEffect(ctx: ExecContext, b: JsonObject): Effect {
  const r = b.resolved_inputs as JsonObject;
  const payload: JsonObject = {
    messages: [{
      role: "user",
      content:
        "Convert the Agent answer into a JSON object matching the required schema. Return JSON only.\n\n" +
        `Task:\n${r.task}\n\nAnswer:\n${b.answer}`,
    }],
  };
  if (r.system) payload.system_prompt = r.system;
  payload.provider = r.provider;
  payload.model = r.model;
  payload.response_schema = r.resp_schema;
  payload.response_schema_name = `Agent_${ctx.node.id}`;
  payload.params = { temperature: r.temperature };
  return { type: "llm_call", payload, result_key: `_temp.agent.${ctx.node.id}.structured` };
}

function done(ctx: ExecContext, b: JsonObject, response: string, data: Json): StepPlan {
  b.phase = "done";
  const out: JsonObject = {
    response,
    success: b.success !== false,
    meta: b.meta ?? {},
    scratchpad: b.scratchpad ?? null,
    tool_calls: getPath(b, "scratchpad.tool_calls") ?? [],
    tool_results: getPath(b, "scratchpad.tool_results") ?? [],
  };
  if (data !== undefined && data !== null) out.data = data;
  ctx.setOutputs(out, { lastOutput: true });
  return ctx.continueOr("exec-out", ExecContext.completion(out));
}

export function agentNode(reactWorkflowId: (nodeId: string) => string): ExecFn {
  return (ctx) => {
    const agents = objectAt(ctx.vars, "_temp.agent");
    let b = agents[ctx.node.id];
    const self = ctx.node.id;
    if (!isObject(b) || b.phase === "done" || !b.phase) {
      const r = resolve(ctx);
      if (typeof r === "string") {
        const out: JsonObject = { response: "", success: false, meta: { error: r }, scratchpad: null };
        agents[self] = { phase: "done", error: r };
        ctx.setOutputs(out, { lastOutput: true });
        return ctx.continueOr("exec-out", out);
      }
      b = { phase: "subworkflow", resolved_inputs: r, child_vars: childVars(ctx, r) };
      agents[self] = b;
    }
    const r = b.resolved_inputs as JsonObject;
    if (b.phase === "subworkflow") {
      const sub = b.sub;
      if (!isObject(sub)) {
        return {
          node_id: self,
          effect: {
            type: "start_subworkflow",
            payload: {
              workflow_id: reactWorkflowId(self),
              vars: b.child_vars ?? {},
              async: true,
              wait: true,
              include_traces: true,
            },
            result_key: `_temp.agent.${self}.sub`,
          },
          next_node: self,
        };
      }
      const output = isObject(sub.output) ? sub.output : {};
      const subRunId = String(sub.sub_run_id ?? "");
      const answer = typeof output.answer === "string"
        ? output.answer
        : typeof output.error === "string"
        ? output.error
        : "";
      const steps = flattenSteps(sub.node_traces);
      const traced = toolActivity(steps);
      const tools = {
        calls: Array.isArray(output.tool_calls) ? output.tool_calls : traced.calls,
        results: Array.isArray(output.tool_results) ? output.tool_results : traced.results,
      };
      const messages = Array.isArray(output.messages) ? output.messages : [];
      b.answer = answer;
      b.success = output.success !== false;
      b.scratchpad = {
        sub_run_id: subRunId,
        workflow_id: reactWorkflowId(self),
        task: r.task,
        messages,
        node_traces: sub.node_traces ?? {},
        steps,
        tool_calls: tools.calls,
        tool_results: tools.results,
      };
      b.meta = {
        schema: "abstractcode.agent.v1.meta",
        version: 1,
        provider: r.provider,
        model: r.model,
        sub_run_id: subRunId,
        iterations: typeof output.iterations === "number" ? output.iterations : 0,
        tool_calls: tools.calls.length,
        tool_results: tools.results.length,
        output_mode: r.resp_schema ? "structured" : "unstructured",
      };
      if (r.include_context && b.context_appended_sub_run_id !== subRunId) {
        appendTurn(ctx, b, subRunId, answer, observations(messages, tools.results));
        b.context_appended_sub_run_id = subRunId;
      }
      if (!r.resp_schema || b.success === false) return done(ctx, b, answer, null);
      b.phase = "structured";
    }
    const structured = b.structured;
    if (!isObject(structured)) return { node_id: self, effect: structuredEffect(ctx, b), next_node: self };
    let data: Json = structured.data ?? null;
    if (data === null && typeof structured.content === "string") {
      try {
        data = parseJsonText(structured.content);
      } catch {
        data = { value: structured.content };
      }
    }
    return done(ctx, b, JSON.stringify(data), data);
  };
}
