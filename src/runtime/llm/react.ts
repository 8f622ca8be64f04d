/**
 * The ReAct child workflow an Agent node runs (runtime-model.md §9.3):
 *
 *   init → reason (llm_call with tools) → parse ─ tool calls → act (tool_calls) → observe → reason …
 *                                             └─ final text → done
 *   reason → max_iterations when the budget is used up; act waits for approval when the tool
 *   policy says so; the resume that answers it runs (or denies) the batch, then observe.
 *
 * Handlers are pure functions of the run state: effect-emitting nodes (reason, act)
 * never mutate vars, and the nodes that do (init, parse, observe) only derive the new state from
 * persisted vars, so re-running any node after a crash gives the same result. Output:
 * `{answer, iterations, messages}` as upstream; the Agent node derives its tool pins from the
 * child's node traces.
 */
import type { StepPlan, WorkflowSpec } from "../spec.ts";
import type { Json, JsonObject, RunState } from "../types.ts";
import {
  agentTemp,
  allowedTools,
  array,
  bucket,
  context,
  iteration,
  lastAssistantText,
  maxIterations,
  messages,
  num,
  observationText,
  peek,
  peekAgent,
  peekArray,
  peekMessages,
  scratchpad,
  temp,
} from "./react_state.ts";
import { isObject } from "../engine/json.ts";
import { toolSpecsFor } from "./tools/registry.ts";

const BASE_PROMPT = "You are an autonomous agent completing the user's task step by step. " +
  "Use the available tools when they help, with valid JSON arguments; file paths are relative to the run workspace. " +
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
      max_iterations: (run) => finish(run, "max_iterations", agentConfig),
      done: (run) => finish(run, "done", agentConfig),
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
  const bucketed = agentTemp(run);
  bucketed.tool_calls = [];
  bucketed.tool_results = [];
  return { node_id: "init", next_node: "reason" };
}

function reason(run: RunState, agentConfig: JsonObject): StepPlan {
  if (iteration(run) >= maxIterations(run, agentConfig)) {
    return { node_id: "reason", next_node: "max_iterations" };
  }
  const rt = peek(run.vars, "_runtime");
  const tools = toolSpecsFor(allowedTools(run, agentConfig));
  const extra = typeof rt.system_prompt_extra === "string" && rt.system_prompt_extra.trim()
    ? `\n\n${rt.system_prompt_extra.trim()}`
    : "";
  const params: JsonObject = { temperature: num(rt.temperature, tools.length ? 0.2 : 0.7) };
  if (typeof rt.seed === "number" && rt.seed >= 0) params.seed = rt.seed;
  const label = (key: "provider" | "model"): Json =>
    typeof rt[key] === "string" ? rt[key] : typeof agentConfig[key] === "string" ? agentConfig[key] : null;
  return {
    node_id: "reason",
    effect: {
      type: "llm_call",
      payload: {
        messages: structuredClone(peekMessages(run)),
        system_prompt: `${tools.length ? BASE_PROMPT : NO_TOOLS_PROMPT}${extra}`,
        tools: tools as unknown as JsonObject[],
        provider: label("provider"),
        model: label("model"),
        params,
      },
      result_key: "_temp.llm_response",
    },
    next_node: "parse",
  };
}

function parse(run: RunState): StepPlan {
  const response = isObject(temp(run).llm_response) ? temp(run).llm_response as JsonObject : {};
  const n = iteration(run) + 1;
  scratchpad(run).iteration = n;
  bucket(run.vars, "_limits").current_iteration = n;
  const content = typeof response.content === "string" ? response.content : "";
  const calls = (Array.isArray(response.tool_calls) ? response.tool_calls : []).filter(isObject).map((
    call,
    i,
  ) => ({
    name: typeof call.name === "string" ? call.name : "",
    arguments: isObject(call.arguments) ? call.arguments : {},
    call_id: typeof call.call_id === "string" && call.call_id ? call.call_id : `call_${n}_${i + 1}`,
  }));
  const history = messages(run);
  if (calls.length) {
    history.push({
      role: "assistant",
      content,
      tool_calls: calls,
      metadata: { kind: "tool_calls", message_id: `react:${n}:assistant` },
    });
    agentTemp(run).pending_tool_calls = calls;
    return { node_id: "parse", next_node: "act" };
  }
  history.push({
    role: "assistant",
    content,
    metadata: { kind: "answer", message_id: `react:${n}:assistant` },
  });
  agentTemp(run).answer = content;
  return { node_id: "parse", next_node: "done" };
}

function act(run: RunState, agentConfig: JsonObject): StepPlan {
  const payload: JsonObject = {
    tool_calls: structuredClone(peekArray(peekAgent(run), "pending_tool_calls")),
    allowed_tools: allowedTools(run, agentConfig),
    // Distinguishes identical calls made in different iterations (effects are reused by payload).
    iteration: iteration(run),
    resume_to_node: "observe",
  };
  return {
    node_id: "act",
    effect: { type: "tool_calls", payload, result_key: "_temp.tool_results" },
    next_node: "observe",
  };
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
      content: observationText(result),
      tool_call_id: callId,
      name: String(result.name ?? ""),
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
  scratchpad(run).used_tools = true;
  return { node_id: "observe", next_node: "reason" };
}

function finish(run: RunState, node: "done" | "max_iterations", agentConfig: JsonObject): StepPlan {
  const bucketed = peekAgent(run);
  const answer = node === "done" ? String(bucketed.answer ?? "") : lastAssistantText(run) ??
    `Stopped after ${maxIterations(run, agentConfig)} iterations without a final answer.`;
  // upstream's child output keys; the parent reads tool activity from the child's node traces
  const output: JsonObject = { answer, iterations: iteration(run), messages: peekMessages(run) };
  return { node_id: node, complete_output: structuredClone(output) };
}
