/**
 * Media generation for `llm_call` payloads with an `output` selector (what the media nodes compile
 * to): images (`POST images/generations`, base64 answer), image edits (`POST images/edits`, multipart
 * with the input image and optional mask, base64 answer), speech (`POST audio/speech`, audio bytes)
 * and transcription (`POST audio/transcriptions`, multipart with the input audio artifact), against
 * the OpenAI-compatible media endpoint the operator configured. Every output is stored as an
 * artifact of the run; the result carries its ref as upstream's media results do.
 */
import type { EffectContext, EffectOutcome } from "../spec.ts";
import type { Json, JsonObject } from "../types.ts";
import { type ChatClientOptions, LlmRequestError, postModelApi } from "./client.ts";
import { isObject } from "../engine/json.ts";

export interface MediaOptions extends Omit<ChatClientOptions, "baseUrl" | "apiKey"> {
  /** ABSTRACTGATEWAY_MEDIA_BASE_URL; media steps fail naming it when unset. */
  mediaBaseUrl?: string;
  mediaApiKey?: string;
}

const AUDIO_TYPES: Record<string, string> = {
  wav: "audio/wav",
  mp3: "audio/mpeg",
  flac: "audio/flac",
  opus: "audio/opus",
  aac: "audio/aac",
  pcm: "audio/pcm",
};

/** The media task an llm_call payload asks for, or null for a plain chat call. */
export function mediaTask(payload: JsonObject): string | null {
  const output = isObject(payload.output) ? payload.output : null;
  if (!output) return null;
  const task = typeof output.task === "string" ? output.task : "";
  const modality = typeof output.modality === "string" ? output.modality : "text";
  return task === "transcription" || modality !== "text" ? task || modality : null;
}

const str = (v: Json | undefined): string | null => typeof v === "string" && v.trim() ? v.trim() : null;

function artifactRef(
  meta: { artifact_id: string; run_id: string | null; content_type: string },
  modality: string,
) {
  return {
    $artifact: meta.artifact_id,
    artifact_id: meta.artifact_id,
    run_id: meta.run_id,
    content_type: meta.content_type,
    modality,
  };
}

export async function mediaCall(ctx: EffectContext, options: MediaOptions): Promise<EffectOutcome> {
  const payload = ctx.effect.payload;
  const output = payload.output as JsonObject;
  const task = mediaTask(payload)!;
  if (!options.mediaBaseUrl) {
    return {
      status: "failed",
      error:
        `Cannot run media task '${task}': no media backend is configured (set ABSTRACTGATEWAY_MEDIA_BASE_URL)`,
    };
  }
  const client: ChatClientOptions = {
    ...options,
    baseUrl: options.mediaBaseUrl,
    apiKey: options.mediaApiKey,
  };
  const model = str(output.model);
  const format = str(output.format);
  const prompt = str(payload.prompt) ?? str(payload.text) ?? "";
  const tags = { kind: "generated_media", task, node_id: ctx.node_id };
  try {
    if (task === "image_generation") {
      const body: JsonObject = { prompt, n: 1, response_format: "b64_json" };
      if (model) body.model = model;
      const size = str(output.size) ??
        (typeof output.width === "number" && typeof output.height === "number"
          ? `${output.width}x${output.height}`
          : null);
      if (size) body.size = size;
      for (const k of ["quality", "style"]) if (str(output[k])) body[k] = str(output[k]);
      const answer = await postModelApi(client, "images/generations", body, ctx.signal);
      return done(await storeImages(ctx, answer, format, tags), "", model, task);
    }
    if (task === "image_edit") {
      const [image, mask] = ["image", "mask"].map((role) => mediaInput(payload, role));
      const input = image ? await loadMedia(ctx, image) : null;
      if (!input) return { status: "failed", error: "edit_image needs an image_artifact (none found)" };
      const maskFile = mask ? await loadMedia(ctx, mask) : null;
      if (mask && !maskFile) return { status: "failed", error: "edit_image: mask_artifact not found" };
      const form = new FormData();
      form.append("image", input.file, input.name);
      form.append("prompt", prompt);
      if (maskFile) form.append("mask", maskFile.file, maskFile.name);
      if (model) form.append("model", model);
      const n = typeof output.n === "number" ? output.n : typeof output.count === "number" ? output.count : 1;
      form.append("n", String(Math.max(1, Math.floor(n))));
      if (str(output.size)) form.append("size", str(output.size)!);
      form.append("response_format", "b64_json");
      const answer = await postModelApi(client, "images/edits", form, ctx.signal);
      return done(await storeImages(ctx, answer, format, tags), "", model, task);
    }
    if (task === "tts") {
      const body: JsonObject = { input: prompt, response_format: format ?? "wav" };
      if (model) body.model = model;
      body.voice = str(output.voice) ?? "alloy";
      if (str(output.instructions)) body.instructions = str(output.instructions);
      if (typeof output.speed === "number") body.speed = output.speed;
      const answer = await postModelApi(client, "audio/speech", body, ctx.signal);
      const ext = format ?? "wav";
      const meta = await ctx.services.storeArtifact(answer.bytes, {
        content_type: AUDIO_TYPES[ext] ?? answer.contentType,
        filename: `${ctx.node_id}.${ext}`,
        tags: { ...tags, modality: "audio" },
      });
      return done(artifactRef(meta, "audio"), "", model, task);
    }
    if (task === "transcription") {
      const ref = mediaInput(payload);
      const audio = ref ? await loadMedia(ctx, ref) : null;
      if (!audio) return { status: "failed", error: "transcribe_audio needs an audio_artifact (none found)" };
      const form = new FormData();
      form.append("file", audio.file, audio.name);
      if (model) form.append("model", model);
      if (str(output.language)) form.append("language", str(output.language)!);
      if (str(payload.prompt)) form.append("prompt", str(payload.prompt)!);
      form.append("response_format", "json");
      const answer = await postModelApi(client, "audio/transcriptions", form, ctx.signal);
      const json = JSON.parse(new TextDecoder().decode(answer.bytes));
      const text = typeof json?.text === "string" ? json.text : "";
      const meta = await ctx.services.storeArtifact(new TextEncoder().encode(text), {
        content_type: "text/plain",
        filename: `${ctx.node_id}.txt`,
        tags: { ...tags, modality: "text" },
      });
      return done(artifactRef(meta, "text"), text, model, task);
    }
    return { status: "failed", error: `Media task '${task}' is not supported by this gateway` };
  } catch (error) {
    if (error instanceof LlmRequestError) return { status: "failed", error: error.message };
    return { status: "failed", error: `Media task '${task}' failed: ${(error as Error).message}` };
  }
}

/** The payload's media entry with `role` (the first entry when no role is asked for). */
function mediaInput(payload: JsonObject, role?: string): JsonObject | null {
  const media = Array.isArray(payload.media) ? payload.media.filter(isObject) : [];
  return media.find((m) => role ? m.role === role : true) ?? null;
}

/** The bytes of a media input: a run artifact (`$artifact`/`artifact_id`) or inline `data` (a data URL or base64). */
async function loadMedia(ctx: EffectContext, ref: JsonObject): Promise<{ file: Blob; name: string } | null> {
  const id = str(ref.$artifact) ?? str(ref.artifact_id);
  if (id) {
    const found = await ctx.services.loadArtifact(id);
    if (!found) return null;
    const file = new Blob([new Uint8Array(found.content)], { type: found.meta.content_type });
    return { file, name: found.meta.filename ?? id };
  }
  const data = str(ref.data);
  if (!data) return null;
  const url = /^data:([^;,]*)(;base64)?,(.*)$/s.exec(data);
  const type = url?.[1] || "image/png";
  try {
    const bytes = url && !url[2]
      ? new TextEncoder().encode(decodeURIComponent(url[3]))
      : Uint8Array.from(atob(url ? url[3] : data), (c) => c.charCodeAt(0));
    return {
      file: new Blob([bytes], { type }),
      name: `${ctx.node_id}-${ref.role ?? "input"}.${type.split("/")[1]}`,
    };
  } catch {
    return null;
  }
}

/** Stores every `data[].b64_json` image of an images answer as a run artifact; their refs in order. */
async function storeImages(
  ctx: EffectContext,
  answer: { url: string; bytes: Uint8Array },
  format: string | null,
  tags: Record<string, string>,
): Promise<JsonObject[]> {
  const json = JSON.parse(new TextDecoder().decode(answer.bytes));
  const images = (Array.isArray(json?.data) ? json.data : []).map((d: JsonObject) => d?.b64_json)
    .filter((b: Json) => typeof b === "string") as string[];
  if (images.length === 0) throw new Error(`no image in the answer of ${answer.url}`);
  const ext = format ?? "png";
  const refs: JsonObject[] = [];
  for (const [i, b64] of images.entries()) {
    const meta = await ctx.services.storeArtifact(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)), {
      content_type: `image/${ext}`,
      filename: images.length > 1 ? `${ctx.node_id}-${i + 1}.${ext}` : `${ctx.node_id}.${ext}`,
      tags: { ...tags, modality: "image" },
    });
    refs.push(artifactRef(meta, "image"));
  }
  return refs;
}

function done(
  refs: JsonObject | JsonObject[],
  content: string,
  model: string | null,
  task: string,
): EffectOutcome {
  const outputs = Array.isArray(refs) ? refs : [refs];
  const ref = outputs[0];
  return {
    status: "completed",
    result: {
      content,
      data: null,
      tool_calls: [],
      outputs,
      artifact_ref: ref,
      artifact_id: ref.artifact_id,
      content_type: ref.content_type,
      modality: ref.modality,
      task,
      model,
      provider: "openai-compatible",
    },
  };
}
