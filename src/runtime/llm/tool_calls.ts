/**
 * The `tool_calls` effect handler. Policy by tool mode (ABSTRACTGATEWAY_TOOL_MODE):
 * - local: run every call;
 * - approval: run batches of read-only tools; a batch with any other tool waits for a person
 *   (WAITING(user), wait key `tool_approval:<hex>`);
 * - passthrough: every batch waits for approval;
 * - delegated: never run; WAITING(job) `tool_calls:<run_id>:<node>` for an external worker that
 *   resumes with `{"mode":"executed","results":[…]}`.
 * A person's answer to an approval wait is applied by the engine inside the resume (`ctx.approval`):
 * approved → every call runs; denied → every call of the batch gets a "denied" result.
 * Unknown, malformed or non-allowlisted calls get error results and never block a batch.
 */
import type { EffectContext, EffectHandler, EffectOutcome } from "../spec.ts";
import type { Json, JsonObject } from "../types.ts";
import { approvalAnswer, approvalWait, callView, type ToolMode } from "./approval.ts";
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
    const tools = toolContext(ctx, options);
    // calls that cannot run here get their error result directly and never wait for a person
    const runnable = calls.filter((c) => refusal(c, allowed, tools) === null);
    const needsApproval = runnable.filter((c) => !isSafeTool(c.name)).map((c) => c.name);

    if (ctx.approval !== undefined) {
      // Inside the resume of this batch's approval wait: approved runs every call, denied denies the whole batch.
      const decision = approvalAnswer(ctx.approval) ??
        { approved: false, reason: "unrecognised approval answer" };
      if (decision.approved) return await execute(calls, allowed, tools);
      const denied = `Tool call denied by the user${decision.reason ? `: ${decision.reason}` : ""}`;
      return {
        status: "completed",
        result: executedEnvelope(calls.map((c) => resultItem(c, false, null, denied))),
      };
    }
    if (!runnable.length || options.toolMode === "local") return execute(calls, allowed, tools);
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
    if (!gate.length) return execute(calls, allowed, tools);
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

function toolContext(ctx: EffectContext, options: ToolCallsOptions): ToolContext {
  const workspace = ctx.run.vars.workspace_root;
  return {
    commands: [],
    canRun: runPermitted,
    ...options.toolContext,
    workspaceRoot: typeof workspace === "string" && workspace ? workspace : null,
    signal: ctx.signal,
  };
}

async function execute(
  calls: ToolCall[],
  allowed: ReadonlySet<string> | null,
  tools: ToolContext,
): Promise<EffectOutcome> {
  const results: JsonObject[] = [];
  for (const call of calls) results.push(await runCall(call, allowed, tools));
  return { status: "completed", result: executedEnvelope(results) as Json };
}
