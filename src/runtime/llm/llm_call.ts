/**
 * The `llm_call` effect handler: payload → OpenAI-compatible request → upstream result shape
 * `{content, reasoning, data, raw_response, tool_calls, usage, model, finish_reason, gen_time,
 * metadata, trace_id}`. Structured output uses `response_format: json_schema` and `data` is parsed
 * leniently from the reply text. An HTTP 400 naming a refused parameter is answered by adjusting the
 * request (compat.ts) and trying again, a few times at most. A truncated answer
 * (`finish_reason: "length"`) is retried with twice the output budget (payload
 * `retry_on_truncation`, default on) and then fails unless the payload sets `allow_truncation`.
 */
import type { EffectHandler } from "../spec.ts";
import type { JsonObject } from "../types.ts";
import { type ChatClientOptions, type ChatResponse, LlmRequestError, postChatCompletion } from "./client.ts";
import { adjustRejected } from "./compat.ts";
import { type EndpointDefaults, prepareCall } from "./request.ts";
import { mediaCall, type MediaOptions, mediaTask } from "./media.ts";
import { type NormalisedResponse, normaliseResponse } from "./response.ts";
import { parseJsonLenient, toStructuredData } from "./structured.ts";

const MAX_ADJUSTMENTS = 4;
const MAX_TRUNCATION_ATTEMPTS = 3;

/**
 * The request as recorded in the result: every parameter, but messages and tools as counts — the
 * effect payload in the same ledger record already holds them, and agent histories grow each step.
 */
function requestSummary(body: JsonObject): JsonObject {
  const { messages, tools, ...rest } = body;
  return {
    ...rest,
    messages_count: Array.isArray(messages) ? messages.length : 0,
    tools_count: Array.isArray(tools) ? tools.length : 0,
  };
}

/** Posts the request, adjusting it after HTTP 400 refusals; returns the answer or the error text. */
async function send(
  client: ChatClientOptions,
  body: JsonObject,
  schema: JsonObject | null,
  adjustments: string[],
  signal?: AbortSignal,
): Promise<{ response: ChatResponse; body: JsonObject } | string> {
  for (let made = 0;; made++) {
    try {
      return { response: await postChatCompletion(client, body, signal), body };
    } catch (error) {
      if (!(error instanceof LlmRequestError)) throw error;
      const adjusted = error.status === 400 && made < MAX_ADJUSTMENTS
        ? adjustRejected(body, error.message, schema)
        : null;
      if (!adjusted) return error.message;
      body = adjusted.body;
      adjustments.push(adjusted.change);
    }
  }
}

export interface LlmCallOptions extends Omit<ChatClientOptions, "baseUrl">, EndpointDefaults, MediaOptions {}

export function createLlmCallHandler(options: LlmCallOptions): EffectHandler {
  return async (ctx) => {
    if (mediaTask(ctx.effect.payload) !== null) return await mediaCall(ctx, options);
    const prepared = prepareCall(ctx.effect.payload, ctx.run, options);
    if (typeof prepared === "string") return { status: "failed", error: prepared };
    const client: ChatClientOptions = { ...options, baseUrl: prepared.baseUrl, apiKey: prepared.apiKey };
    const started = performance.now();
    const payload = ctx.effect.payload;
    const adjustments: string[] = [];
    let body = prepared.body;
    let response: ChatResponse;
    let normalised: NormalisedResponse;
    for (let attempt = 1;; attempt++) {
      const sent = await send(client, body, prepared.schema, adjustments, ctx.signal);
      if (typeof sent === "string") return { status: "failed", error: sent };
      ({ response, body } = sent);
      if (!Array.isArray(response.json.choices) || response.json.choices.length === 0) {
        const snippet = JSON.stringify(response.json).slice(0, 300);
        return { status: "failed", error: `LLM response from ${response.url} has no choices: ${snippet}` };
      }
      normalised = normaliseResponse(response.json);
      if (normalised.finish_reason !== "length") break;
      // Truncated: retry with twice the output budget (when there is one), then fail unless allowed.
      const key = "max_completion_tokens" in body ? "max_completion_tokens" : "max_tokens";
      const budget = body[key];
      if (
        payload.retry_on_truncation !== false && typeof budget === "number" &&
        attempt < MAX_TRUNCATION_ATTEMPTS
      ) {
        body = { ...body, [key]: budget * 2 };
        adjustments.push(`${key} ${budget}→${budget * 2} (truncated)`);
        continue;
      }
      if (payload.allow_truncation === true) break;
      const tries = attempt === 1 ? "1 attempt" : `${attempt} attempts`;
      const advice = "raise max_output_tokens or set allow_truncation";
      return {
        status: "failed",
        error: `LLM output was truncated (finish_reason=length) after ${tries}; ${advice}`,
      };
    }
    let data: JsonObject | null = null;
    if (prepared.schema) {
      const parsed = parseJsonLenient(normalised.content);
      if (parsed === undefined) {
        const snippet = (normalised.content ?? "").slice(0, 200);
        return {
          status: "failed",
          error: `Structured output was requested but the model reply is not JSON: ${snippet}`,
        };
      }
      data = toStructuredData(parsed);
    }
    return {
      status: "completed",
      result: {
        content: normalised.content,
        reasoning: normalised.reasoning,
        data,
        raw_response: response.json,
        tool_calls: normalised.tool_calls,
        usage: normalised.usage,
        model: normalised.model ?? (body.model as string),
        finish_reason: normalised.finish_reason,
        gen_time: Math.round(performance.now() - started) / 1000,
        metadata: {
          _provider_request: { url: response.url, payload: requestSummary(body) },
          provider: typeof payload.provider === "string" ? payload.provider : null,
          attempts: response.attempts,
          request_adjustments: adjustments,
        },
        trace_id: null,
      },
    };
  };
}
