/** Builds the OpenAI `messages` array of an llm_call payload (prompt, system_prompt, messages). */
import type { JsonObject } from "../types.ts";
import { isObject } from "../engine/json.ts";

/**
 * Order: system_prompt, then `messages` (run-context history), then `prompt`/`text` as the final
 * user turn. Runtime metadata (`metadata`, `timestamp`) is dropped; tool turns keep their ids.
 */
export function buildMessages(payload: JsonObject): JsonObject[] {
  const out: JsonObject[] = [];
  const system = typeof payload.system_prompt === "string" ? payload.system_prompt.trim() : "";
  if (system) out.push({ role: "system", content: system });
  if (Array.isArray(payload.messages)) {
    for (const message of payload.messages) {
      if (isObject(message)) out.push(toOpenAiMessage(message));
    }
  }
  const prompt = typeof payload.prompt === "string"
    ? payload.prompt
    : typeof payload.text === "string"
    ? payload.text
    : null;
  if (prompt !== null) out.push({ role: "user", content: prompt });
  return out;
}

function toOpenAiMessage(message: JsonObject): JsonObject {
  const role = typeof message.role === "string" ? message.role : "user";
  const content = typeof message.content === "string" || Array.isArray(message.content)
    ? message.content
    : message.content == null
    ? (role === "assistant" ? null : "")
    : JSON.stringify(message.content);
  const out: JsonObject = { role, content };
  if (role === "tool") {
    out.tool_call_id = String(
      message.tool_call_id ?? (isObject(message.metadata) ? message.metadata.call_id : "") ?? "",
    );
  }
  if (typeof message.name === "string" && role !== "tool") out.name = message.name;
  if (role === "assistant" && Array.isArray(message.tool_calls) && message.tool_calls.length) {
    out.tool_calls = message.tool_calls.filter(isObject).map(toOpenAiToolCall);
  }
  return out;
}

/** Accepts both our normalised `{name, arguments, call_id}` and the OpenAI wire shape. */
function toOpenAiToolCall(call: JsonObject): JsonObject {
  if (isObject(call.function)) return call;
  const args = call.arguments;
  return {
    id: String(call.call_id ?? call.id ?? ""),
    type: "function",
    function: {
      name: String(call.name ?? ""),
      arguments: typeof args === "string" ? args : JSON.stringify(args ?? {}),
    },
  };
}

/**
 * Drops the oldest non-system messages until the estimate fits; the last message is always kept.
 * The estimate is rough: 4 characters of the messages' JSON per token, the same order of magnitude
 * as real tokenizers.
 */
export function trimToBudget(messages: JsonObject[], maxInputTokens: number | null): JsonObject[] {
  if (!maxInputTokens || maxInputTokens <= 0) return messages;
  const kept = [...messages];
  // The JSON length of `kept`, updated per dropped message (its JSON plus a comma) instead of
  // serialising the whole history again on every round.
  const sizes = kept.map((m) => JSON.stringify(m).length);
  let chars = JSON.stringify(kept).length;
  const drop = (index: number) => {
    chars -= sizes[index] + 1;
    kept.splice(index, 1);
    sizes.splice(index, 1);
  };
  while (Math.ceil(chars / 4) > maxInputTokens) {
    const index = kept.findIndex((m, i) => m.role !== "system" && i < kept.length - 1);
    if (index < 0) break;
    // A tool answer without its assistant tool_calls turn is rejected by providers: drop them together.
    drop(index);
    while (kept[index]?.role === "tool" && index < kept.length - 1) drop(index);
  }
  return kept;
}
