/**
 * The text requests of the ReAct child, in upstream's request shape (runtime-model.md §9.3): the
 * reasoning call and the finalize pass send one `prompt` (no `messages`), so the history reaches the
 * model as labelled text — `role: content` lines, tool results as
 * `observation[<tool>] (success|error): …` — followed by a scratchpad of the run's own tool steps
 * (read from `_runtime.node_traces`, the durable source of truth). Host messages carry metadata some
 * providers reject, which is why upstream renders them instead of passing them through.
 */
import type { Json, JsonObject, RunState } from "../types.ts";
import { isObject } from "../engine/json.ts";
import { peek, peekMessages } from "./react_state.ts";

/** How many of the latest tool observations the finalize pass shows the model (as upstream). */
const FINALIZE_OBSERVATIONS = 6;

/** Tool result as the child stores it: `[name]: output`, or `[name]: Error: …` on failure. */
export function observationContent(result: JsonObject): string {
  const name = typeof result.name === "string" && result.name ? result.name : "tool";
  const text = (value: Json | undefined): string =>
    value === null || value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value);
  const body = result.success === true
    ? text(result.output)
    : `Error: ${text(result.error) || text(result.output)}`;
  const capped = body.length > 20_000 ? `${body.slice(0, 20_000)}\n… truncated` : body;
  return `[${name}]: ${capped}`;
}

function historyLine(message: JsonObject): string {
  const role = typeof message.role === "string" && message.role ? message.role : "unknown";
  const content = message.content === null || message.content === undefined
    ? ""
    : typeof message.content === "string"
    ? message.content
    : JSON.stringify(message.content);
  if (role !== "tool") return `${role}: ${content}`;
  const meta = isObject(message.metadata) ? message.metadata : {};
  const name = typeof meta.name === "string" && meta.name ? meta.name : "";
  let body = content.trim();
  if (name && body.startsWith(`[${name}]:`)) body = body.slice(name.length + 3).trimStart();
  const outcome = meta.success === true ? " (success)" : meta.success === false ? " (error)" : "";
  return `observation${name ? `[${name}]` : ""}${outcome}: ${body}`;
}

const render = (value: Json | undefined): string =>
  value === null || value === undefined
    ? ""
    : typeof value === "string"
    ? value
    : JSON.stringify(value, null, 2);

/** Thought / Action / Observation blocks of every tool step in the run's node traces, oldest first. */
function traceScratchpad(run: RunState): string {
  const traces = peek(peek(run.vars, "_runtime"), "node_traces");
  const steps = Object.values(traces)
    .flatMap((t) => (isObject(t) && Array.isArray(t.steps) ? t.steps : []))
    .filter(isObject)
    .sort((a, b) => String(a.ts ?? "").localeCompare(String(b.ts ?? "")));
  let thought = "";
  const blocks: string[] = [];
  for (const step of steps) {
    const effect = isObject(step.effect) ? step.effect : {};
    const result = isObject(step.result) ? step.result : null;
    if (effect.type === "llm_call" && step.status === "completed" && result) {
      const said = [result.reasoning, result.content].find((v) => typeof v === "string" && v.trim());
      if (typeof said === "string") thought = said.trim();
      continue;
    }
    if (effect.type !== "tool_calls") continue;
    const ts = typeof step.ts === "string" && step.ts ? ` ${step.ts}` : "";
    const parts = [`[tool_calls]${ts} (${typeof step.status === "string" ? step.status : "unknown"})`];
    if (thought) parts.push("Thought:", thought);
    const action = render(isObject(effect.payload) ? effect.payload.tool_calls : undefined);
    if (action.trim()) parts.push("Action:", action);
    const observation = render(step.result);
    if (observation.trim()) parts.push("Observation:", observation);
    blocks.push(parts.join("\n").trim());
  }
  return blocks.join("\n\n").trim();
}

/** The reasoning call's `prompt`: iteration, task, history and the runtime scratchpad. */
export function reasonPrompt(run: RunState, task: string, iteration: number, maxIterations: number): string {
  let prompt = `Iteration: ${iteration}/${maxIterations}\n\nTask:\n${task}\n\n`;
  const history = peekMessages(run).filter(isObject).map(historyLine).join("\n");
  if (history) prompt += `History:\n${history}\n\n`;
  const scratchpad = traceScratchpad(run);
  if (scratchpad) prompt += `Scratchpad (runtime; tool calls + results):\n${scratchpad}\n\n`;
  return prompt;
}

/** The tool-free finalize pass: the task and the latest tool observations, for a user-facing answer. */
export function finalizePrompt(run: RunState, task: string): string {
  const tools = peekMessages(run).filter((m): m is JsonObject => isObject(m) && m.role === "tool");
  const names = new Set<string>();
  let wroteFiles = false;
  for (const m of tools) {
    const meta = isObject(m.metadata) ? m.metadata : {};
    if (typeof meta.name !== "string" || !meta.name) continue;
    names.add(meta.name);
    if ((meta.name === "write_file" || meta.name === "edit_file") && meta.success === true) wroteFiles = true;
  }
  const observations = tools
    .map((m) => (typeof m.content === "string" ? m.content.trim() : ""))
    .filter(Boolean)
    .slice(-FINALIZE_OBSERVATIONS);
  return "Write the final answer for the user.\n\n" +
    "Facts:\n" +
    `- Tools executed: ${names.size ? [...names].sort().join(", ") : "(none)"}\n` +
    `- File writes observed (write_file/edit_file): ${wroteFiles ? "yes" : "no"}\n\n` +
    "Rules:\n" +
    "- State only what the observations below support.\n" +
    "- If no file write was observed, do not say that files were created or changed.\n" +
    "- If part of the task was not done, say so plainly, and say what is left.\n\n" +
    `Task:\n${task}\n\n` +
    `Observations (tool outputs):\n${
      observations.length ? observations.join("\n\n") : "(no tool observations captured)"
    }\n\n` +
    "Answer:\n";
}
