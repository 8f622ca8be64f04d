/**
 * The ReAct child workflow an Agent node runs (runtime-model.md §9.3):
 *
 *   init → reason (llm_call with tools) → parse ─ tool calls → act (tool_calls) → observe → reason …
 *                                             ├─ final text, tools used → finalize → finalize_parse → done
 *                                             └─ final text, no tools → done
 *   reason → max_iterations when the budget is used up; act waits for approval when the tool
 *   policy says so; the resume that answers it runs (or denies) the batch, then observe.
 *
 * As upstream, the reasoning call and the finalize pass send a single `prompt` (react_prompt.ts)
 * and tool results are kept as `role:"tool"` messages reading `[name]: output`.
 *
 * Handlers are pure functions of the run state: effect-emitting nodes (reason, act, finalize)
 * never mutate vars, and the nodes that do (init, parse, observe, finalize_parse, done) only derive
 * the new state from persisted vars, so re-running any node after a crash gives the same result.
 * Output: `{answer, iterations, messages}` as upstream; the Agent node derives its tool pins from
 * the child's node traces.
 */
import type { StepPlan, WorkflowSpec } from "../spec.ts";
import type { JsonObject, RunState } from "../types.ts";
import {
  agentTemp,
  allowedTools,
  array,
  bucket,
  context,
  iteration,
  maxIterations,
  messages,
  num,
  peek,
  peekAgent,
  peekArray,
  peekMessages,
  scratchpad,
  temp,
} from "./react_state.ts";
import { finalizePrompt, observationContent, reasonPrompt } from "./react_prompt.ts";
import { isObject } from "../engine/json.ts";
import { toolSpecsFor } from "./tools/registry.ts";

const BASE_PROMPT = "You are an autonomous agent completing the user's task step by step. " +
  "Use the available tools when they help, with valid JSON arguments; file paths are relative to the run workspace. " +
  "Tool results appear in the History and the Scratchpad as observations: never write observation lines yourself. " +
  "When the task is complete, reply with the final answer as plain text and do not call any tool.";
const NO_TOOLS_PROMPT = "You are a helpful agent. Complete the user's task and reply with the final answer.";

export function reactAgentSpec(reactWorkflowId: string, agentConfig: JsonObject): WorkflowSpec {
  return {
    workflow_id: reactWorkflowId,
    entry_node: "init",
    nodes: {
      init: (run) => init(run, agentConfig),
      reason: (run) => reason(run, agentConfig),
      parse: (run) => parse(run),
      act: (run) => act(run, agentConfig),
      observe: (run) => observe(run),
      finalize: (run) => finalize(run, agentConfig),
      finalize_parse: (run) => finalizeParse(run),
      max_iterations: (run) => stopAtLimit(run, agentConfig),
      done: (run) => done(run),
    },
  };
}

function init(run: RunState, agentConfig: JsonObject): StepPlan {
  const ctx = context(run);
  const task = typeof ctx.task === "string"
    ? ctx.task
    : typeof agentConfig.prompt === "string"
    ? agentConfig.prompt
    : "";
  ctx.task = task;
  const history = messages(run);
  const last = history[history.length - 1];
  const alreadyAsked = isObject(last) && last.role === "user" && last.content === task;
  if (task && !alreadyAsked) {
    history.push({ role: "user", content: task, metadata: { kind: "agent_task", message_id: "react:task" } });
  }
  const pad = scratchpad(run);
  pad.iteration = num(pad.iteration, 0);
  pad.max_iterations = maxIterations(run, agentConfig);
  pad.used_tools = pad.used_tools === true;
  const bucketed = agentTemp(run);
  bucketed.tool_calls = [];
  bucketed.tool_results = [];
  return { node_id: "init", next_node: "reason" };
}

/** `provider`/`model` of the child's requests: `_runtime`, else the agent config. */
function routing(run: RunState, agentConfig: JsonObject): JsonObject {
  const rt = peek(run.vars, "_runtime");
  const out: JsonObject = {};
  for (const key of ["provider", "model"] as const) {
    const value = typeof rt[key] === "string" ? rt[key] : agentConfig[key];
    if (typeof value === "string" && value.trim()) out[key] = value.trim();
  }
  return out;
}

/** A node that emits one effect, stores its result at `resultKey` and goes on to `next`. */
const effectStep = (
  node: string,
  type: string,
  payload: JsonObject,
  resultKey: string,
  next: string,
): StepPlan => ({ node_id: node, effect: { type, payload, result_key: resultKey }, next_node: next });

const taskOf = (run: RunState): string => {
  const task = peek(run.vars, "context").task;
  return typeof task === "string" ? task : "";
};

function reason(run: RunState, agentConfig: JsonObject): StepPlan {
  const max = maxIterations(run, agentConfig);
  if (iteration(run) >= max) {
    return { node_id: "reason", next_node: "max_iterations" };
  }
  const rt = peek(run.vars, "_runtime");
  const tools = toolSpecsFor(allowedTools(run, agentConfig));
  const extra = typeof rt.system_prompt_extra === "string" && rt.system_prompt_extra.trim()
    ? `\n\n${rt.system_prompt_extra.trim()}`
    : "";
  const params: JsonObject = {};
  const maxOut = peek(run.vars, "_limits").max_output_tokens;
  if (typeof maxOut === "number" && maxOut > 0) params.max_tokens = Math.floor(maxOut);
  params.temperature = num(rt.temperature, tools.length ? 0.2 : 0.7);
  if (typeof rt.seed === "number" && rt.seed >= 0) params.seed = rt.seed;
  const payload: JsonObject = { prompt: reasonPrompt(run, taskOf(run), iteration(run) + 1, max) };
  if (tools.length) payload.tools = tools as unknown as JsonObject[];
  payload.system_prompt = typeof rt.system_prompt === "string" && rt.system_prompt.trim()
    ? rt.system_prompt
    : `${tools.length ? BASE_PROMPT : NO_TOOLS_PROMPT}${extra}`;
  Object.assign(payload, routing(run, agentConfig));
  payload.params = params;
  return effectStep("reason", "llm_call", payload, "_temp.llm_response", "parse");
}

/** The model's text: role labels some models echo are dropped; empty text falls back to reasoning. */
function answerText(response: JsonObject): string {
  let content = typeof response.content === "string" ? response.content.trimStart() : "";
  const label = /^assistant\s*[:：]/i.exec(content);
  if (label) content = content.slice(label[0].length).trimStart();
  if (!content.trim() && typeof response.reasoning === "string") content = response.reasoning.trim();
  return content;
}

function parse(run: RunState): StepPlan {
  const response = isObject(temp(run).llm_response) ? temp(run).llm_response as JsonObject : {};
  const n = iteration(run) + 1;
  scratchpad(run).iteration = n;
  bucket(run.vars, "_limits").current_iteration = n;
  const content = answerText(response);
  const calls = (Array.isArray(response.tool_calls) ? response.tool_calls : []).filter(isObject).map((
    call,
    i,
  ) => ({
    name: typeof call.name === "string" ? call.name : "",
    arguments: isObject(call.arguments) ? call.arguments : {},
    call_id: typeof call.call_id === "string" && call.call_id ? call.call_id : `call_${n}_${i + 1}`,
  }));
  const history = messages(run);
  if (content.trim()) {
    history.push({
      role: "assistant",
      content,
      metadata: { kind: calls.length ? "tool_calls" : "answer", message_id: `react:${n}:assistant` },
    });
  }
  if (calls.length) {
    agentTemp(run).pending_tool_calls = calls;
    return { node_id: "parse", next_node: "act" };
  }
  agentTemp(run).answer = content;
  // Once tools ran, a tool-free pass turns the observations into the user-facing answer (upstream).
  return { node_id: "parse", next_node: scratchpad(run).used_tools === true ? "finalize" : "done" };
}
function act(run: RunState, agentConfig: JsonObject): StepPlan {
  const payload: JsonObject = {
    tool_calls: structuredClone(peekArray(peekAgent(run), "pending_tool_calls")),
    allowed_tools: allowedTools(run, agentConfig),
    // Distinguishes identical calls made in different iterations (effects are reused by payload).
    iteration: iteration(run),
    resume_to_node: "observe",
  };
  return effectStep("act", "tool_calls", payload, "_temp.tool_results", "observe");
}

function observe(run: RunState): StepPlan {
  const outcome = temp(run).tool_results;
  const bucketed = agentTemp(run);
  const pending = array(bucketed, "pending_tool_calls").filter(isObject);
  const given = isObject(outcome) && Array.isArray(outcome.results) ? outcome.results.filter(isObject) : [];
  // One result per pending call (providers reject tool turns without a matching call), matched by
  // call id; results with unknown ids fill the remaining calls in order; the rest get an error.
  const unmatched = given.filter((r) => !pending.some((c) => c.call_id === r.call_id));
  const results = pending.map((call) =>
    given.find((r) => r.call_id === call.call_id) ?? unmatched.shift() ??
      { ...call, success: false, output: null, error: "Missing tool result" }
  );
  const n = iteration(run);
  const history = messages(run);
  results.forEach((result, i) => {
    const callId = String(result.call_id ?? pending[i]?.call_id ?? `call_${n}_${i + 1}`);
    history.push({
      role: "tool",
      content: observationContent(result),
      metadata: {
        kind: "tool_observation",
        name: String(result.name ?? ""),
        call_id: callId,
        success: result.success === true,
        message_id: `react:${n}:tool:${i + 1}`,
      },
    });
  });
  array(bucketed, "tool_calls").push(...pending);
  array(bucketed, "tool_results").push(...results);
  bucketed.pending_tool_calls = [];
  if (results.length) scratchpad(run).used_tools = true;
  return { node_id: "observe", next_node: "reason" };
}

function finalize(run: RunState, agentConfig: JsonObject): StepPlan {
  const rt = peek(run.vars, "_runtime");
  const payload: JsonObject = { prompt: finalizePrompt(run, taskOf(run)), params: { temperature: 0.2 } };
  if (typeof rt.system_prompt === "string") payload.system_prompt = rt.system_prompt;
  Object.assign(payload, routing(run, agentConfig));
  return effectStep("finalize", "llm_call", payload, "_temp.final_llm_response", "finalize_parse");
}

function finalizeParse(run: RunState): StepPlan {
  const response = temp(run).final_llm_response;
  const content = isObject(response) ? response.content : null;
  agentTemp(run).answer = content === null || content === undefined ? "" : String(content);
  return { node_id: "finalize_parse", next_node: "done" };
}

/** Completes with the answer, first recording it as the last assistant message (as upstream). */
function done(run: RunState): StepPlan {
  const answer = String(peekAgent(run).answer ?? "") || "No answer provided";
  const history = messages(run);
  const last = history[history.length - 1];
  if (!isObject(last) || last.role !== "assistant" || String(last.content ?? "") !== answer) {
    history.push({
      role: "assistant",
      content: answer,
      metadata: { kind: "final_answer", message_id: `react:${iteration(run)}:final` },
    });
  }
  return { node_id: "done", complete_output: structuredClone(output(run, answer, iteration(run))) };
}

/** Out of iterations: upstream answers with the last message, whatever its role. */
function stopAtLimit(run: RunState, agentConfig: JsonObject): StepPlan {
  const history = peekMessages(run);
  const last = history[history.length - 1];
  const answer = isObject(last) && last.content !== undefined && last.content !== null
    ? (typeof last.content === "string" ? last.content : JSON.stringify(last.content))
    : "Max iterations reached";
  return {
    node_id: "max_iterations",
    complete_output: structuredClone(output(run, answer, maxIterations(run, agentConfig))),
  };
}

// upstream's child output keys; the parent reads tool activity from the child's node traces
const output = (run: RunState, answer: string, iterations: number): JsonObject => ({
  answer,
  iterations,
  messages: peekMessages(run),
});
