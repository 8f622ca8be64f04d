/**
 * OpenAI-compatible chat-completions client: `POST {baseUrl}/chat/completions` with a bearer key,
 * a per-request timeout, and retries (exponential backoff + jitter, Retry-After honoured) on
 * HTTP 429/5xx, timeouts and network errors. Error texts name the endpoint, never the key.
 */
import { OutboundRefusedError } from "../../security/outbound.ts";
import type { JsonObject } from "../types.ts";
import { backoffMs, delay, retryAfterMs } from "./retry.ts";
import { isObject } from "../engine/json.ts";

export interface ChatClientOptions {
  baseUrl: string;
  apiKey?: string;
  timeoutS: number;
  maxRetries: number;
  fetch?: typeof fetch;
  /** First backoff delay (default 500 ms); tests shorten it. */
  retryBaseMs?: number;
  /** Cap of any backoff / Retry-After wait (default 30 s). */
  retryCapMs?: number;
}

export interface ChatResponse {
  url: string;
  json: JsonObject;
  attempts: number;
}

/** A failed request; `retryable` says whether another attempt could succeed. */
export class LlmRequestError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs: number | null = null,
    /** HTTP status of the last answer (null for transport errors). */
    readonly status: number | null = null,
  ) {
    super(message);
    this.name = "LlmRequestError";
  }
}

export function chatCompletionsUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/chat/completions`;
}

export async function postChatCompletion(
  options: ChatClientOptions,
  body: JsonObject,
  signal?: AbortSignal,
): Promise<ChatResponse> {
  const url = chatCompletionsUrl(options.baseUrl);
  const attempts = Math.max(0, Math.floor(options.maxRetries)) + 1;
  for (let attempt = 1;; attempt++) {
    try {
      return { url, json: await attemptOnce(options, url, body, signal), attempts: attempt };
    } catch (error) {
      if (!(error instanceof LlmRequestError)) throw error;
      if (!error.retryable || attempt >= attempts || signal?.aborted) {
        const prefix = attempt > 1 ? `LLM request failed after ${attempt} attempts:` : "LLM request failed:";
        throw new LlmRequestError(`${prefix} ${error.message}`, false, null, error.status);
      }
      const capMs = options.retryCapMs ?? 30_000;
      const wait = error.retryAfterMs !== null
        ? Math.min(error.retryAfterMs, capMs)
        : backoffMs(attempt, { baseMs: options.retryBaseMs ?? 500, capMs });
      await delay(wait, signal);
    }
  }
}

async function attemptOnce(
  options: ChatClientOptions,
  url: string,
  body: JsonObject,
  signal?: AbortSignal,
): Promise<JsonObject> {
  const timeout = AbortSignal.timeout(options.timeoutS * 1000);
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
  } catch (error) {
    throw transportError(error, url, options, signal);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw transportError(error, url, options, signal);
  }
  if (!response.ok) {
    const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
    const detail = scrub(text, options.apiKey).slice(0, 500);
    const retryable = response.status === 429 || response.status >= 500;
    const hint = response.status === 401 || response.status === 403
      ? " (check ABSTRACTGATEWAY_LLM_API_KEY)"
      : response.status === 404 && !/\/v\d+\/chat\/completions$/.test(url)
      ? " (OpenAI-compatible base URLs usually end with /v1)"
      : "";
    throw new LlmRequestError(
      `${status} from ${url}${hint}${detail ? `: ${detail}` : ""}`,
      retryable,
      retryable ? retryAfterMs(response.headers.get("retry-after")) : null,
      response.status,
    );
  }
  try {
    const json = JSON.parse(text);
    if (isObject(json)) return json;
  } catch {
    // reported below
  }
  throw new LlmRequestError(
    `invalid JSON response from ${url}: ${scrub(text, options.apiKey).slice(0, 200)}`,
    false,
  );
}

function transportError(
  error: unknown,
  url: string,
  options: ChatClientOptions,
  signal?: AbortSignal,
): LlmRequestError {
  if (signal?.aborted) return new LlmRequestError(`request to ${url} was cancelled`, false);
  if (error instanceof OutboundRefusedError) return new LlmRequestError(error.message, false);
  if (error instanceof Deno.errors.NotCapable) {
    return new LlmRequestError(`the gateway's permission sandbox refuses network access to ${url}`, false);
  }
  if (error instanceof DOMException && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return new LlmRequestError(`timed out after ${options.timeoutS}s waiting for ${url}`, true);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new LlmRequestError(`network error calling ${url}: ${scrub(message, options.apiKey)}`, true);
}

function scrub(text: string, secret?: string): string {
  return secret ? text.split(secret).join("***") : text;
}
