/**
 * Builds the chat-completions request of an llm_call payload and picks its endpoint:
 * - a provider the node names that is listed in ABSTRACTGATEWAY_LLM_PROVIDERS → that provider's
 *   base URL and key, the node's model through the provider's `models` mapping (else the node's
 *   model, else the provider's `model`);
 * - no provider, or no providers configured → the default ABSTRACTGATEWAY_LLM_BASE_URL/KEY, the
 *   payload's model (else ABSTRACTGATEWAY_LLM_MODEL; always it under the model override);
 * - providers configured but the named one missing → the step fails naming it.
 * A `base_url` in the payload (or its params) wins over both.
 */
import type { Json, JsonObject, RunState } from "../types.ts";
import { buildMessages, trimToBudget } from "./messages.ts";
import { normaliseSchema, responseFormat } from "./structured.ts";
import { toOpenAiTool } from "./tools/registry.ts";
import { isObject } from "../engine/json.ts";
import type { LlmProvider } from "../../config/settings.ts";

export interface EndpointDefaults {
  baseUrl?: string;
  model?: string;
  apiKey?: string;
  /** Send `model` whatever the payload names (ABSTRACTGATEWAY_LLM_MODEL_OVERRIDE). */
  modelOverride?: boolean;
  /** Provider name (lower case) → endpoint (ABSTRACTGATEWAY_LLM_PROVIDERS). */
  providers?: Record<string, LlmProvider>;
}

export interface PreparedCall {
  baseUrl: string;
  apiKey?: string;
  body: JsonObject;
  /** Object schema when structured output was requested. */
  schema: JsonObject | null;
}

const text = (v: Json | undefined): string | null => typeof v === "string" && v.trim() ? v.trim() : null;
const positive = (...values: (Json | undefined)[]): number | null => {
  for (const v of values) if (typeof v === "number" && Number.isFinite(v) && v > 0) return Math.floor(v);
  return null;
};

/** Returns the request, or an error text for the effect failure. */
export function prepareCall(
  payload: JsonObject,
  run: RunState,
  defaults: EndpointDefaults,
): PreparedCall | string {
  if (Array.isArray(payload.media) && payload.media.length) {
    return "Media inputs (attachments) are not supported by this gateway's LLM client";
  }
  const params = isObject(payload.params) ? payload.params : {};
  const limits = isObject(run.vars._limits) ? run.vars._limits : {};
  const hasInput = ["prompt", "text"].some((k) => typeof payload[k] === "string") ||
    (Array.isArray(payload.messages) && payload.messages.length > 0);
  if (!hasInput) return "llm_call needs a prompt, messages or text";
  const endpoint = route(payload, defaults);
  if (typeof endpoint === "string") return endpoint;
  const baseUrl = text(params.base_url) ?? text(payload.base_url) ?? endpoint.baseUrl;
  if (!baseUrl) return "No LLM endpoint configured (set ABSTRACTGATEWAY_LLM_BASE_URL)";
  const model = endpoint.model;
  if (!model) return "No LLM model configured (set ABSTRACTGATEWAY_LLM_MODEL or give the node a model)";

  let schema: JsonObject | null;
  try {
    schema = normaliseSchema(payload.response_schema);
  } catch (error) {
    return (error as Error).message;
  }
  const maxInput = positive(payload.max_input_tokens, params.max_input_tokens, limits.max_input_tokens);
  const body: JsonObject = { model, messages: trimToBudget(buildMessages(payload), maxInput), stream: false };
  if (typeof params.temperature === "number") body.temperature = params.temperature;
  if (typeof params.seed === "number" && Number.isInteger(params.seed) && params.seed >= 0) {
    body.seed = params.seed;
  }
  const maxTokens = positive(
    params.max_output_tokens,
    params.max_tokens,
    payload.max_output_tokens,
    payload.max_out_tokens,
    limits.max_output_tokens,
  );
  if (maxTokens) body.max_tokens = maxTokens;
  if (Array.isArray(params.stop) || typeof params.stop === "string") body.stop = params.stop;
  const tools = Array.isArray(payload.tools) ? payload.tools.map(toOpenAiTool).filter((t) => t !== null) : [];
  if (tools.length) body.tools = tools as JsonObject[];
  if (schema) body.response_format = responseFormat(schema, payload.response_schema_name);
  return { baseUrl, apiKey: endpoint.apiKey, body, schema };
}

/** The endpoint, key and model for the provider a payload names (see the module comment). */
function route(
  payload: JsonObject,
  defaults: EndpointDefaults,
): { baseUrl?: string; apiKey?: string; model?: string } | string {
  const named = text(payload.provider)?.toLowerCase() ?? null;
  const requestedRaw = text(payload.model);
  const requested = requestedRaw && requestedRaw.toLowerCase() !== "default" ? requestedRaw : null;
  const providers = defaults.providers ?? {};
  const configured = Object.keys(providers);
  if (named && named !== "default" && configured.length > 0) {
    const p = providers[named];
    if (!p) {
      return `Cannot call LLM provider '${named}': it is not configured ` +
        `(ABSTRACTGATEWAY_LLM_PROVIDERS lists ${configured.sort().join(", ")})`;
    }
    const model = requested ? p.models?.[requested] ?? requested : p.model;
    return { baseUrl: p.base_url, apiKey: p.api_key, model };
  }
  return {
    baseUrl: defaults.baseUrl,
    apiKey: defaults.apiKey,
    model: (defaults.modelOverride ? null : requested) ?? defaults.model,
  };
}
