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

export async function postChatCompletion(
  options: ChatClientOptions,
  body: JsonObject,
  signal?: AbortSignal,
): Promise<ChatResponse> {
  const answer = await postModelApi(options, "chat/completions", body, signal);
  const text = new TextDecoder().decode(answer.bytes);
  try {
    const json = JSON.parse(text);
    if (isObject(json)) return { url: answer.url, json, attempts: answer.attempts };
  } catch {
    // reported below
  }
  throw new LlmRequestError(
    `LLM request failed: invalid JSON response from ${answer.url}: ${
      scrub(text, options.apiKey).slice(0, 200)
    }`,
    false,
  );
}

export interface ModelApiAnswer {
  url: string;
  bytes: Uint8Array;
  contentType: string;
  attempts: number;
}

/**
 * The one place the gateway calls a model API (chat, images, speech, transcription): `POST
 * {baseUrl}/{path}` with a JSON or multipart body, bearer key, timeout and retries.
 */
export async function postModelApi(
  options: ChatClientOptions,
  path: string,
  body: JsonObject | FormData,
  signal?: AbortSignal,
): Promise<ModelApiAnswer> {
  const url = `${options.baseUrl.replace(/\/+$/, "")}/${path}`;
  const attempts = Math.max(0, Math.floor(options.maxRetries)) + 1;
  for (let attempt = 1;; attempt++) {
    try {
      return { ...await attemptOnce(options, url, body, signal), url, attempts: attempt };
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
  body: JsonObject | FormData,
  signal?: AbortSignal,
): Promise<{ bytes: Uint8Array; contentType: string }> {
  const timeout = AbortSignal.timeout(options.timeoutS * 1000);
  const multipart = body instanceof FormData;
  const headers: Record<string, string> = multipart ? {} : { "content-type": "application/json" };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      method: "POST",
      headers,
      body: multipart ? body : JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
  } catch (error) {
    throw transportError(error, url, options, signal);
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    throw transportError(error, url, options, signal);
  }
  if (!response.ok) {
    const text = new TextDecoder().decode(bytes);
    const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
    const detail = scrub(text, options.apiKey).slice(0, 500);
    const retryable = response.status === 429 || response.status >= 500;
    const hint = response.status === 401 || response.status === 403
      ? " (check ABSTRACTGATEWAY_LLM_API_KEY)"
      : response.status === 404 && !/\/v\d+\/[a-z/]+$/.test(url)
      ? " (OpenAI-compatible base URLs usually end with /v1)"
      : "";
    throw new LlmRequestError(
      `${status} from ${url}${hint}${detail ? `: ${detail}` : ""}`,
      retryable,
      retryable ? retryAfterMs(response.headers.get("retry-after")) : null,
      response.status,
    );
  }
  return { bytes, contentType: response.headers.get("content-type") ?? "application/octet-stream" };
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
