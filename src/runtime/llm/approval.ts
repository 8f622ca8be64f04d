/**
 * Tool approval: the WAITING(user) state asking a person to allow a batch, and reading the answer.
 * The engine applies the answer inside the resume of that wait (`EffectContext.approval`), so a
 * workflow cannot approve its own calls.
 */
import type { Json, JsonObject, WaitState } from "../types.ts";
import type { ToolCall } from "./tools/executor.ts";
import { isObject } from "../engine/json.ts";

export type ToolMode = "approval" | "passthrough" | "delegated" | "local";

export const callView = (c: ToolCall): JsonObject => ({
  name: c.name,
  arguments: c.arguments,
  call_id: c.call_id,
  runtime_call_id: c.runtime_call_id,
});

export function approvalWait(options: {
  calls: ToolCall[];
  needsApproval: string[];
  safeTools: string[];
  mode: ToolMode;
  resultKey: string | null;
  resumeTo: string | null;
}): WaitState {
  const names = [...new Set(options.needsApproval)].join(", ");
  return {
    reason: "user",
    wait_key: `tool_approval:${crypto.randomUUID().replaceAll("-", "")}`,
    until: null,
    resume_to_node: options.resumeTo,
    result_key: options.resultKey,
    prompt:
      `Approve tool call(s): ${names}? Resume with {"approved": true} or {"approved": false, "reason": "…"}.`,
    choices: null,
    allow_free_text: true,
    details: {
      mode: "approval_required",
      tool_calls: options.calls.map(callView),
      executor: {
        kind: "tool_approval",
        policy: {
          mode: options.mode,
          safe_tools: options.safeTools,
          requires_approval: options.needsApproval,
        },
      },
    },
  };
}

export interface ApprovalDecision {
  approved: boolean;
  reason: string | null;
}

const YES = new Set(["yes", "y", "approve", "approved", "allow", "allowed", "ok", "true", "accept"]);

/**
 * Reads an answer to a tool-approval wait: `{approved: bool, reason?}` (upstream), or a chat-style
 * `{response: "approve" | "deny" …}` from clients that answer every user wait the same way.
 * Null when the payload is not an approval answer at all.
 */
export function approvalAnswer(payload: Json | undefined): ApprovalDecision | null {
  if (!isObject(payload)) return null;
  const reason = typeof payload.reason === "string" ? payload.reason : null;
  if (typeof payload.approved === "boolean") return { approved: payload.approved, reason };
  const text = typeof payload.response === "string" ? payload.response : null;
  if (text === null || Array.isArray(payload.results)) return null;
  return { approved: YES.has(text.trim().toLowerCase()), reason: reason ?? (text.trim() || null) };
}
