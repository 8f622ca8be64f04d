/**
 * LLM side of the runtime: effect handlers for `llm_call` and `tool_calls`, and the ReAct agent
 * workflow the Agent node runs as its child.
 */
import { guardedFetch, type OutboundPolicy } from "../../security/outbound.ts";
import type { EffectHandler } from "../spec.ts";
import type { ToolMode } from "./approval.ts";
import { createLlmCallHandler } from "./llm_call.ts";
import { createToolCallsHandler } from "./tool_calls.ts";
import type { ToolContext } from "./tools/types.ts";
import type { LlmProvider } from "../../config/settings.ts";

export interface LlmEffectOptions {
  baseUrl?: string;
  model?: string;
  /** Send `model` on every call, ignoring the model a payload names. */
  modelOverride?: boolean;
  apiKey?: string;
  /** Provider name (lower case) → endpoint (ABSTRACTGATEWAY_LLM_PROVIDERS). */
  providers?: Record<string, LlmProvider>;
  /** OpenAI-compatible media endpoint (images, speech, transcription). */
  mediaBaseUrl?: string;
  mediaApiKey?: string;
  timeoutS: number;
  maxRetries: number;
  toolMode: ToolMode;
  fetch?: typeof fetch;
  /** First retry backoff in ms (default 500). */
  retryBaseMs?: number;
  /** Tool execution overrides (tests). */
  toolContext?: Partial<Omit<ToolContext, "workspaceRoot" | "signal">>;
  /** The operator's outbound hosts: every LLM request and web tool fetch is checked against it. */
  outbound?: OutboundPolicy;
}

export function createLlmEffectHandlers(options: LlmEffectOptions): Record<string, EffectHandler> {
  const { outbound } = options;
  const guard = (f?: typeof fetch) => outbound ? guardedFetch(outbound, f) : f;
  const toolContext = { ...options.toolContext, fetch: guard(options.toolContext?.fetch) };
  return {
    llm_call: createLlmCallHandler({ ...options, fetch: guard(options.fetch) }),
    tool_calls: createToolCallsHandler({ toolMode: options.toolMode, toolContext }),
  };
}

export { reactAgentSpec } from "./react.ts";
export type { ToolMode } from "./approval.ts";
