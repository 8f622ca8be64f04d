/**
 * Tool approval: the WAITING(user) state asking a person to allow a batch, and reading the answer
 * back from the ledger (the `resume` record written when the wait was answered). Reading the ledger,
 * not the payload, means a workflow cannot approve its own calls.
 */
import type { EffectServices } from "../spec.ts";
import type { Json, JsonObject, WaitState } from "../types.ts";
import { batchSignature, type ToolCall } from "./tools/executor.ts";
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

/**
 * The answer to the latest tool-approval wait of this run whose batch equals `calls`, or null when
 * no such answered wait exists.
 */
export async function findApproval(
  services: EffectServices,
  runId: string,
  calls: ToolCall[],
): Promise<ApprovalDecision | null> {
  const ledger = await services.readLedger(runId);
  const wanted = batchSignature(calls);
  for (let i = ledger.length - 1; i >= 0; i--) {
    const record = ledger[i];
    const resume = record.effect?.type === "resume" ? record.effect.payload : null;
    const key = resume?.wait_key;
    if (typeof key !== "string" || !key.startsWith("tool_approval:")) continue;
    const waiting = ledger.slice(0, i).reverse().find((r) => {
      const wait = isObject(r.result) && isObject(r.result.wait) ? r.result.wait : null;
      return r.status === "waiting" && r.effect?.type === "tool_calls" && wait?.wait_key === key;
    });
    const wait = waiting && isObject(waiting.result) && isObject(waiting.result.wait)
      ? waiting.result.wait
      : null;
    const asked = isObject(wait?.details) && Array.isArray(wait.details.tool_calls)
      ? wait.details.tool_calls
      : [];
    if (
      batchSignature(asked.filter(isObject).map((c) => ({ name: c.name, arguments: c.arguments }))) !== wanted
    ) continue;
    return approvalAnswer(resume?.payload) ?? { approved: false, reason: "unrecognised approval answer" };
  }
  return null;
}
