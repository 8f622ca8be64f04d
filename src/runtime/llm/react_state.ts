/**
 * Run-vars layout of the ReAct agent child (upstream names): `context.{task,messages}`,
 * `scratchpad.{iteration,max_iterations,used_tools}`, `_runtime.{provider,model,allowed_tools,
 * system_prompt_extra,temperature,seed}`, `_limits.current_iteration`, `_temp.llm_response`, `_temp.final_llm_response`,
 * `_temp.tool_results` and `_temp.agent.{pending_tool_calls,tool_calls,tool_results,answer}`.
 */
import type { Json, JsonObject, RunState } from "../types.ts";
import { isObject } from "../engine/json.ts";

/** The object at `vars[key]` (created, or replacing a non-object, when missing). */
export function bucket(parent: JsonObject, key: string): JsonObject {
  const current = parent[key];
  if (isObject(current)) return current;
  const fresh: JsonObject = {};
  parent[key] = fresh;
  return fresh;
}

/** The array at `obj[key]` (created when missing). */
export function array(obj: JsonObject, key: string): Json[] {
  const current = obj[key];
  if (Array.isArray(current)) return current;
  const fresh: Json[] = [];
  obj[key] = fresh;
  return fresh;
}

/** Read-only views: never create anything (effect-emitting nodes must leave vars untouched). */
export const peek = (obj: JsonObject, key: string): JsonObject =>
  isObject(obj[key]) ? obj[key] as JsonObject : {};
export const peekArray = (obj: JsonObject, key: string): Json[] =>
  Array.isArray(obj[key]) ? obj[key] as Json[] : [];
export const peekMessages = (run: RunState): Json[] => peekArray(peek(run.vars, "context"), "messages");
export const peekAgent = (run: RunState): JsonObject => peek(peek(run.vars, "_temp"), "agent");

export const context = (run: RunState) => bucket(run.vars, "context");
export const messages = (run: RunState) => array(context(run), "messages");
export const scratchpad = (run: RunState) => bucket(run.vars, "scratchpad");
export const agentTemp = (run: RunState) => bucket(bucket(run.vars, "_temp"), "agent");
export const temp = (run: RunState) => bucket(run.vars, "_temp");

export const num = (v: Json | undefined, fallback: number): number =>
  typeof v === "number" && Number.isFinite(v) ? v : fallback;

export const iteration = (run: RunState): number => num(peek(run.vars, "scratchpad").iteration, 0);

export function maxIterations(run: RunState, agentConfig: JsonObject): number {
  const limits = isObject(run.vars._limits) ? run.vars._limits : {};
  const value = num(
    scratchpad(run).max_iterations,
    num(limits.max_iterations, num(agentConfig.max_iterations, 25)),
  );
  return Math.max(1, Math.floor(value));
}

/** Tool names the agent may use: `_runtime.allowed_tools`, else `agentConfig.tools`. */
export function allowedTools(run: RunState, agentConfig: JsonObject): string[] {
  const fromRun = peek(run.vars, "_runtime").allowed_tools;
  const list = Array.isArray(fromRun) ? fromRun : Array.isArray(agentConfig.tools) ? agentConfig.tools : [];
  return list.filter((t): t is string => typeof t === "string" && t.length > 0);
}
