/** Runtime-owned namespaces inside run vars: `_limits`, `_runtime.control`, `_flow_warnings`. */
import type { Json, JsonObject, RunState } from "../types.ts";
import { getPath, isObject, objectAt } from "./json.ts";

export const DEFAULT_LIMITS: JsonObject = {
  max_iterations: 50,
  current_iteration: 0,
  max_tokens: 32768,
  max_output_tokens: null,
  max_input_tokens: null,
  max_history_messages: -1,
  estimated_tokens_used: 0,
  warn_iterations_pct: 80,
  warn_tokens_pct: 80,
};

/** Seeds `vars._limits` (missing keys only) as at upstream `start()`. */
export function seedLimits(vars: JsonObject): void {
  const limits = isObject(vars._limits) ? vars._limits : {};
  vars._limits = { ...DEFAULT_LIMITS, ...limits };
}

export const isPaused = (run: RunState): boolean => getPath(run.vars, "_runtime.control.paused") === true;

export const controlOf = (run: RunState): JsonObject => objectAt(run.vars, "_runtime.control");

/** Appends a unique `#WARN:`/`#FALLBACK:` line to `vars._flow_warnings`. */
export function addFlowWarning(vars: JsonObject, warning: string): void {
  const list = Array.isArray(vars._flow_warnings) ? vars._flow_warnings : [];
  if (!list.includes(warning)) list.push(warning);
  vars._flow_warnings = list;
}

/** LLM results report token usage; `_limits.estimated_tokens_used` keeps the last value. */
export function noteTokenUsage(vars: JsonObject, result: Json): void {
  if (!isObject(result) || !isObject(result.usage)) return;
  const u = result.usage;
  const used = [u.input_tokens, u.prompt_tokens, u.total_tokens].find((v) => typeof v === "number");
  if (used !== undefined) objectAt(vars, "_limits").estimated_tokens_used = used;
}
