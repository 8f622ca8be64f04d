/**
 * The `tool_calls` effect handler. Policy by tool mode (ABSTRACTGATEWAY_TOOL_MODE):
 * - local: run every call;
 * - approval: run batches of read-only tools; a batch with any other tool waits for a person
 *   (WAITING(user), wait key `tool_approval:<hex>`);
 * - passthrough: every batch waits for approval;
 * - delegated: never run; WAITING(job) `tool_calls:<run_id>:<node>` for an external worker that
 *   resumes with `{"mode":"executed","results":[…]}`.
 * Payload `after_approval: true` (the ReAct agent's step after an approval wait) runs the batch
 * according to the recorded answer: approved → all calls; denied → read-only ones only.
 * Unknown, malformed or non-allowlisted calls get error results and never block a batch.
 */
import type { EffectContext, EffectHandler, EffectOutcome } from "../spec.ts";
import type { Json, JsonObject } from "../types.ts";
import { approvalWait, callView, findApproval, type ToolMode } from "./approval.ts";
import {
  executedEnvelope,
  normaliseCalls,
  refusal,
  resultItem,
  runCall,
  type ToolCall,
} from "./tools/executor.ts";
import { isSafeTool, TOOL_REGISTRY } from "./tools/registry.ts";
import { runPermitted } from "./tools/system.ts";
import type { ToolContext } from "./tools/types.ts";

export interface ToolCallsOptions {
  toolMode: ToolMode;
  /** Overrides for tool execution (tests: fetch, private network, run permission). */
  toolContext?: Partial<Omit<ToolContext, "workspaceRoot" | "signal">>;
}

const SAFE_TOOLS = [...TOOL_REGISTRY.values()].filter((t) => t.safe).map((t) => t.spec.name);

export function createToolCallsHandler(options: ToolCallsOptions): EffectHandler {
  return async (ctx) => {
    const payload = ctx.effect.payload;
    const calls = normaliseCalls(payload.tool_calls, ctx.idempotency_key);
    const allowed = Array.isArray(payload.allowed_tools) ? new Set(payload.allowed_tools.map(String)) : null;
    const runnable = calls.filter((c) => refusal(c, allowed) === null);
    const needsApproval = runnable.filter((c) => !isSafeTool(c.name)).map((c) => c.name);

    if (payload.after_approval === true) {
      const decision = await findApproval(ctx.services, ctx.run.run_id, calls);
      if (!decision) {
        return { status: "failed", error: "No answered tool-approval wait matches these tool calls" };
      }
      const denied = decision.approved
        ? null
        : `Tool call denied by the user${decision.reason ? `: ${decision.reason}` : ""}`;
      const gated = (c: ToolCall) => options.toolMode === "passthrough" || !isSafeTool(c.name);
      return execute(ctx, calls, allowed, options, (c) => denied !== null && gated(c) ? denied : null);
    }
    if (!runnable.length || options.toolMode === "local") return execute(ctx, calls, allowed, options);
    const resumeTo = typeof payload.resume_to_node === "string" ? payload.resume_to_node : null;
    if (options.toolMode === "delegated") {
      return {
        status: "waiting",
        wait: {
          reason: "job",
          wait_key: typeof payload.wait_key === "string" && payload.wait_key
            ? payload.wait_key
            : `tool_calls:${ctx.run.run_id}:${ctx.node_id}`,
          until: null,
          resume_to_node: resumeTo,
          result_key: ctx.effect.result_key,
          prompt: null,
          choices: null,
          allow_free_text: false,
          details: { mode: "delegated", tool_calls: calls.map(callView) },
        },
      };
    }
    const gate = options.toolMode === "passthrough" ? runnable.map((c) => c.name) : needsApproval;
    if (!gate.length) return execute(ctx, calls, allowed, options);
    return {
      status: "waiting",
      wait: approvalWait({
        calls,
        needsApproval: gate,
        safeTools: options.toolMode === "passthrough" ? [] : SAFE_TOOLS,
        mode: options.toolMode,
        resultKey: ctx.effect.result_key,
        resumeTo,
      }),
    };
  };
}

async function execute(
  ctx: EffectContext,
  calls: ToolCall[],
  allowed: ReadonlySet<string> | null,
  options: ToolCallsOptions,
  blocked: (call: ToolCall) => string | null = () => null,
): Promise<EffectOutcome> {
  const workspace = ctx.run.vars.workspace_root;
  const toolContext: ToolContext = {
    canRun: runPermitted,
    ...options.toolContext,
    workspaceRoot: typeof workspace === "string" && workspace ? workspace : null,
    signal: ctx.signal,
  };
  const results: JsonObject[] = [];
  for (const call of calls) {
    const reason = blocked(call);
    results.push(reason ? resultItem(call, false, null, reason) : await runCall(call, allowed, toolContext));
  }
  return { status: "completed", result: executedEnvelope(results) as Json };
}
