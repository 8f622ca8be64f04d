/**
 * `include_context`/`use_context` LLM calls keep a durable conversation (runtime-model.md §9.1 step 8):
 * after the call, the user turn and the assistant reply are appended to `vars.context.messages`.
 * Applied by the engine after the result is committed, so a replayed (reused) result after a crash
 * still lands in the context exactly once per committed step.
 */
import type { Effect, Json, RunState } from "../types.ts";
import { isObject, objectAt } from "./json.ts";

function userText(payload: Effect["payload"]): string | null {
  if (typeof payload.prompt === "string") return payload.prompt;
  if (!Array.isArray(payload.messages)) return null;
  const last = [...payload.messages].reverse().find((m) => isObject(m) && m.role === "user");
  return isObject(last) && typeof last.content === "string" ? last.content : null;
}

export function appendLlmTurn(run: RunState, nodeId: string, effect: Effect, result: Json): void {
  const p = effect.payload;
  if (effect.type !== "llm_call" || (p.include_context !== true && p.use_context !== true)) return;
  if (!isObject(result)) return;
  const context = objectAt(run.vars, "context");
  const messages = Array.isArray(context.messages) ? context.messages : [];
  const text = userText(p);
  if (text !== null) {
    messages.push({ role: "user", content: text, metadata: { kind: "llm_turn", node_id: nodeId } });
  }
  const reply = typeof result.content === "string"
    ? result.content
    : isObject(result.data)
    ? JSON.stringify(result.data)
    : "";
  messages.push({ role: "assistant", content: reply, metadata: { kind: "llm_turn", node_id: nodeId } });
  context.messages = messages;
}
