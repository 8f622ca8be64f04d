/** Normalises an OpenAI chat-completions answer into the upstream llm_call result shape (§9.1). */
import type { Json, JsonObject } from "../types.ts";
import { isObject } from "../engine/json.ts";

export interface NormalisedResponse {
  content: string | null;
  reasoning: string | null;
  tool_calls: JsonObject[] | null;
  usage: JsonObject | null;
  model: string | null;
  finish_reason: string | null;
}

export function normaliseResponse(json: JsonObject): NormalisedResponse {
  const choice = Array.isArray(json.choices) && isObject(json.choices[0]) ? json.choices[0] : {};
  const message = isObject(choice.message) ? choice.message : {};
  const reasoning = message.reasoning ?? message.reasoning_content;
  const calls: Json[] = Array.isArray(message.tool_calls)
    ? message.tool_calls
    : isObject(message.function_call)
    ? [{ function: message.function_call }]
    : [];
  const toolCalls = calls.filter(isObject).map(normaliseToolCall);
  return {
    content: contentText(message.content),
    reasoning: typeof reasoning === "string" && reasoning ? reasoning : null,
    tool_calls: toolCalls.length ? toolCalls : null,
    usage: normaliseUsage(json.usage),
    model: typeof json.model === "string" ? json.model : null,
    finish_reason: typeof choice.finish_reason === "string" ? choice.finish_reason : null,
  };
}

function contentText(content: Json | undefined): string | null {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((part) => isObject(part) && typeof part.text === "string" ? part.text : "").join("");
  }
  return null;
}

/** `{name, arguments: object, call_id}`; unparsable argument strings are kept as `{_raw: text}`. */
function normaliseToolCall(call: JsonObject): JsonObject {
  const fn = isObject(call.function) ? call.function : call;
  let args: Json = fn.arguments ?? {};
  if (typeof args === "string") {
    try {
      args = args.trim() ? JSON.parse(args) as Json : {};
    } catch {
      args = { _raw: args };
    }
  }
  return {
    name: typeof fn.name === "string" ? fn.name : "",
    arguments: isObject(args) ? args : { value: args },
    call_id: typeof call.id === "string" && call.id ? call.id : null,
  };
}

/** Upstream names (input/output_tokens) plus the OpenAI ones. */
function normaliseUsage(usage: Json | undefined): JsonObject | null {
  if (!isObject(usage)) return null;
  const num = (v: Json | undefined) => typeof v === "number" ? v : null;
  const input = num(usage.prompt_tokens) ?? num(usage.input_tokens);
  const output = num(usage.completion_tokens) ?? num(usage.output_tokens);
  const total = num(usage.total_tokens) ?? (input !== null && output !== null ? input + output : null);
  return {
    input_tokens: input,
    output_tokens: output,
    total_tokens: total,
    prompt_tokens: input,
    completion_tokens: output,
  };
}
