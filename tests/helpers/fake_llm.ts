/**
 * A scripted OpenAI-compatible LLM server for tests (real HTTP on 127.0.0.1, port 0).
 *
 *   const llm = await startFakeLlm([{ content: "hi" }, { toolCalls: [{ name: "read_file", arguments: { file_path: "a.txt" } }] }]);
 *   // point the gateway at llm.baseUrl (ends with /v1), e.g. ABSTRACTGATEWAY_LLM_BASE_URL=llm.baseUrl
 *   ...
 *   await llm.close();
 *
 * Routes: `POST /v1/chat/completions`, `GET /v1/models`, and the media routes: `POST
 * /v1/images/generations` (a base64 image), `/v1/images/edits` (`n` base64 images
 * `FAKEEDIT<i>:<prompt>:<uploaded image>`), `/v1/audio/speech` (bytes `FAKEWAV:<input>`) and
 * `/v1/audio/transcriptions` (text = the uploaded file without that prefix, so speech → transcription
 * round-trips). Everything else is 404.
 *
 * The script is either
 *   - an array of replies, consumed in order, one per chat request, or
 *   - a function `(request, index) => reply` (index = 0-based count of chat requests), or
 *   - `{ replies?, respond?, models? }`: queued replies first, then `respond` for the rest.
 * When no reply is scripted for a request the server answers like the upstream reference fake:
 * `FAKE#<n> reply to: <last user message>`, or, when the request asks for a JSON schema
 * (`response_format.type == "json_schema"`), a minimal JSON object valid for that schema.
 *
 * A reply can give text (`content`), JSON (`json`, sent as text content), tool calls, reasoning,
 * usage, model, finish_reason; or an HTTP error (`status` ≠ 200 with `errorBody` and `headers`,
 * e.g. 429 + `Retry-After`); and `delayMs` to answer late (timeouts). Error and delayed replies
 * count as replies: queue `[{status: 500}, {content: "ok"}]` to test one retry.
 *
 * `requests` records every chat request (path, headers, parsed body) in arrival order.
 */
import type { Json, JsonObject } from "../../src/runtime/types.ts";

export interface FakeToolCall {
  name: string;
  arguments: JsonObject | string;
  id?: string;
}

export interface FakeLlmReply {
  content?: string | null;
  json?: Json;
  toolCalls?: FakeToolCall[];
  reasoning?: string;
  finishReason?: string;
  model?: string;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  /** Non-200 answers an error with `errorBody` (default `{"error":{"message":"fake error"}}`). */
  status?: number;
  errorBody?: string | JsonObject;
  headers?: Record<string, string>;
  delayMs?: number;
}

export interface FakeLlmRequest {
  path: string;
  headers: Record<string, string>;
  body: JsonObject;
}

export type FakeLlmResponder = (
  request: FakeLlmRequest,
  index: number,
) => FakeLlmReply | Promise<FakeLlmReply>;

export type FakeLlmScript =
  | FakeLlmReply[]
  | FakeLlmResponder
  | { replies?: FakeLlmReply[]; respond?: FakeLlmResponder; models?: string[] };

export interface FakeLlm {
  baseUrl: string;
  requests: FakeLlmRequest[];
  close(): Promise<void>;
}

const DEFAULT_USAGE = { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 };

export function startFakeLlm(script: FakeLlmScript = []): Promise<FakeLlm> {
  const { replies, respond, models } = normaliseScript(script);
  const requests: FakeLlmRequest[] = [];
  let count = 0;
  // Pending delays end early on close() so shutdown does not wait for them.
  const sleepers = new Set<() => void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (req.method === "GET" && path === "/v1/models") {
      return Response.json({ object: "list", data: models.map((id) => ({ id, object: "model" })) });
    }
    if (req.method === "POST" && path in MEDIA_ROUTES) {
      const { request, response } = await MEDIA_ROUTES[path](req);
      requests.push({ path, headers: Object.fromEntries(req.headers), body: request });
      return response;
    }
    if (req.method !== "POST" || path !== "/v1/chat/completions") {
      await req.body?.cancel();
      return Response.json({ error: { message: `no route ${req.method} ${path}` } }, { status: 404 });
    }
    const body = await req.json() as JsonObject;
    const request = { path, headers: Object.fromEntries(req.headers), body };
    requests.push(request);
    const index = count++;
    const reply = index < replies.length ? replies[index] : await (respond ?? defaultReply)(request, index);
    if (reply.delayMs) await sleep(reply.delayMs, sleepers);
    return render(reply, body, index);
  });
  return Promise.resolve({
    baseUrl: `http://127.0.0.1:${server.addr.port}/v1`,
    requests,
    close: () => {
      for (const wake of [...sleepers]) wake();
      return server.shutdown();
    },
  });
}

type MediaRoute = (req: Request) => Promise<{ request: JsonObject; response: Response }>;

const MEDIA_ROUTES: Record<string, MediaRoute> = {
  "/v1/images/generations": async (req) => {
    const request = await req.json() as JsonObject;
    const image = btoa(`FAKEPNG:${request.prompt}`);
    return { request, response: Response.json({ created: 0, data: [{ b64_json: image }] }) };
  },
  "/v1/images/edits": async (req) => {
    const form = await req.formData();
    const image = form.get("image") as File;
    const mask = form.get("mask") as File | null;
    const field = (k: string) => form.get(k) as string | null;
    const request: JsonObject = {
      prompt: field("prompt"),
      model: field("model"),
      n: field("n"),
      size: field("size"),
      response_format: field("response_format"),
      image_name: image.name,
      image_type: image.type,
      image: await image.text(),
      mask: mask ? await mask.text() : null,
      mask_type: mask ? mask.type : null,
    };
    const data = Array.from({ length: Number(request.n ?? 1) }, (_, i) => ({
      b64_json: btoa(`FAKEEDIT${i + 1}:${request.prompt}:${request.image}`),
    }));
    return { request, response: Response.json({ created: 0, data }) };
  },
  "/v1/audio/speech": async (req) => {
    const request = await req.json() as JsonObject;
    return {
      request,
      response: new Response(`FAKEWAV:${request.input}`, { headers: { "content-type": "audio/wav" } }),
    };
  },
  "/v1/audio/transcriptions": async (req) => {
    const form = await req.formData();
    const file = form.get("file") as File;
    const heard = (await file.text()).replace(/^FAKEWAV:/, "");
    const request: JsonObject = {
      model: form.get("model") as string | null,
      file_name: file.name,
      file_type: file.type,
    };
    return { request, response: Response.json({ text: heard }) };
  },
};

function normaliseScript(script: FakeLlmScript) {
  if (Array.isArray(script)) return { replies: script, respond: undefined, models: ["fake-model"] };
  if (typeof script === "function") return { replies: [], respond: script, models: ["fake-model"] };
  return { replies: script.replies ?? [], respond: script.respond, models: script.models ?? ["fake-model"] };
}

function sleep(ms: number, sleepers: Set<() => void>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    sleepers.add(done);
    function done() {
      clearTimeout(timer);
      sleepers.delete(done);
      resolve();
    }
  });
}

/** Upstream-fake style echo, or a schema-valid JSON object for structured-output requests. */
export function defaultReply(request: FakeLlmRequest, index: number): FakeLlmReply {
  const format = request.body.response_format as JsonObject | undefined;
  const schema = (format?.json_schema as JsonObject | undefined)?.schema;
  if (format?.type === "json_schema" && schema) return { json: exampleFor(schema) };
  return { content: `FAKE#${index + 1} reply to: ${lastUserText(request.body)}` };
}

export function lastUserText(body: JsonObject): string {
  const messages = Array.isArray(body.messages) ? body.messages as JsonObject[] : [];
  const last = [...messages].reverse().find((m) => m.role === "user");
  if (!last) return "";
  if (typeof last.content === "string") return last.content;
  return JSON.stringify(last.content);
}

/** A minimal instance of a JSON schema (false, 0, "", [], objects with every property). */
export function exampleFor(schema: Json): Json {
  if (!schema || typeof schema !== "object" || Array.isArray(schema)) return null;
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  switch (type) {
    case "object": {
      const props = (schema.properties ?? {}) as JsonObject;
      return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, exampleFor(v)]));
    }
    case "array":
      return [];
    case "boolean":
      return false;
    case "number":
    case "integer":
      return 0;
    case "string":
      return "";
    default:
      return null;
  }
}

function render(reply: FakeLlmReply, body: JsonObject, index: number): Response {
  const headers = reply.headers ?? {};
  if (reply.status && reply.status !== 200) {
    const errorBody = reply.errorBody ?? { error: { message: "fake error" } };
    return typeof errorBody === "string"
      ? new Response(errorBody, { status: reply.status, headers })
      : Response.json(errorBody, { status: reply.status, headers });
  }
  const toolCalls = (reply.toolCalls ?? []).map((call, i) => ({
    id: call.id ?? `call_${index + 1}_${i + 1}`,
    type: "function",
    function: {
      name: call.name,
      arguments: typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments),
    },
  }));
  const content = reply.json !== undefined ? JSON.stringify(reply.json) : reply.content ?? null;
  const message: JsonObject = { role: "assistant", content };
  if (toolCalls.length) message.tool_calls = toolCalls;
  if (reply.reasoning) message.reasoning_content = reply.reasoning;
  return Response.json({
    id: `chatcmpl-fake-${index + 1}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: reply.model ?? (typeof body.model === "string" ? body.model : "fake-model"),
    choices: [{
      index: 0,
      message,
      finish_reason: reply.finishReason ?? (toolCalls.length ? "tool_calls" : "stop"),
    }],
    usage: reply.usage ?? DEFAULT_USAGE,
  }, { headers });
}
