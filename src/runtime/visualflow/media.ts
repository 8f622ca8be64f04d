/**
 * Media nodes (§7.5 Media): each compiles to an `llm_call` effect with an `output` selector, as
 * upstream; the media backend (src/runtime/llm/media.ts) stores the output as a run artifact and the
 * result maps back to the node's artifact pins.
 */
import type { Json, JsonObject } from "../types.ts";
import { isObject } from "../engine/json.ts";
import type { ExecContext } from "./exec_context.ts";
import type { ExecFn } from "./families.ts";
import type { EffectOutputsFn } from "./pins.ts";

/** The first non-empty value among input pins, then effectConfig, for `keys`. */
function pick(ctx: ExecContext, inputs: JsonObject, ...keys: string[]): Json | undefined {
  const cfg = isObject(ctx.node.data.effectConfig as Json) ? ctx.node.data.effectConfig as JsonObject : {};
  for (const source of [inputs, cfg]) {
    for (const k of keys) {
      const v = source[k];
      if (v !== undefined && v !== null && v !== "") return v;
    }
  }
  return undefined;
}

const text = (v: Json | undefined): string => (typeof v === "string" ? v : v === undefined ? "" : String(v));

function mediaEffect(ctx: ExecContext, prompt: string, output: JsonObject, media: Json[] = []) {
  const successor = ctx.successor();
  const payload: JsonObject = {
    type: "llm_call",
    prompt,
    system_prompt: "",
    tools: [],
    params: {},
    media,
    output,
    resume_to_node: successor,
  };
  return ctx.effect({ type: "llm_call", payload, result_key: `_temp.effects.${ctx.node.id}` }, successor);
}

/** Copies the optional string/number settings present among `keys` into `output`. */
function copy(ctx: ExecContext, inputs: JsonObject, output: JsonObject, keys: string[]): JsonObject {
  for (const k of keys) {
    const v = pick(ctx, inputs, k);
    if (typeof v === "string" || typeof v === "number") output[k] = v;
  }
  return output;
}

/** A generation node: its output selector (task, default format, settings, provider/model pins) and its text pins. */
function generation(
  modality: string,
  task: string,
  format: string,
  settings: string[],
  backend: "image" | "tts",
  textPins: string[],
  media: (ctx: ExecContext, inputs: JsonObject) => Json[] = () => [],
): ExecFn {
  return (ctx) => {
    const i = ctx.inputs();
    const output = copy(ctx, i, {
      modality,
      task,
      format: text(pick(ctx, i, "format", "response_format") ?? format).toLowerCase(),
    }, settings);
    const camel = backend === "image" ? "image" : "tts";
    const provider = pick(ctx, i, `${backend}_provider`, `${camel}Provider`);
    const model = pick(ctx, i, `${backend}_model`, `${camel}Model`);
    if (typeof provider === "string") output.provider = provider;
    if (typeof model === "string") output.model = model;
    return mediaEffect(ctx, text(pick(ctx, i, ...textPins)), output, media(ctx, i));
  };
}

/**
 * A media input pin as a payload media entry: an artifact ref (object or artifact id), or inline
 * `data` (a data URL or base64 string); `role` tells the backend which part it is.
 */
function mediaRef(value: Json | undefined, role?: string): JsonObject | null {
  let ref: JsonObject | null = null;
  if (typeof value === "string") {
    ref = /^[A-Za-z0-9_-]{1,200}$/.test(value) ? { $artifact: value } : { data: value };
  } else if (isObject(value)) {
    const inline = [value.data, value.data_url, value.b64_json, value.base64].find((v) =>
      typeof v === "string"
    );
    ref = value.$artifact || value.artifact_id || inline === undefined ? { ...value } : { data: inline };
  }
  if (ref && role) ref.role = role;
  return ref;
}

export const MEDIA_EXEC_NODES: Record<string, ExecFn> = {
  generate_image: generation(
    "image",
    "image_generation",
    "png",
    [
      "size",
      "negative_prompt",
      "quality",
      "style",
      "width",
      "height",
      "seed",
      "steps",
    ],
    "image",
    ["prompt"],
  ),
  edit_image: generation(
    "image",
    "image_edit",
    "png",
    ["size", "n", "count"],
    "image",
    ["prompt"],
    (ctx, i) =>
      [
        mediaRef(pick(ctx, i, "image_artifact", "image"), "image"),
        mediaRef(pick(ctx, i, "mask_artifact", "mask"), "mask"),
      ].filter((m) => m !== null),
  ),
  generate_voice: generation("voice", "tts", "wav", ["voice", "profile", "instructions", "speed"], "tts", [
    "text",
    "prompt",
  ]),
  transcribe_audio: (ctx) => {
    const i = ctx.inputs();
    const output = copy(ctx, i, { modality: "text", task: "transcription" }, ["language", "format", "model"]);
    const audio = pick(ctx, i, "audio_artifact", "audio", "artifact");
    const ref = mediaRef(audio);
    return mediaEffect(ctx, text(pick(ctx, i, "prompt")), output, ref ? [ref] : []);
  },
};

/** Result → pins: the artifact ref on the modality pin, `artifact_ref`, `artifact_id`, `outputs`, `success`, `meta`. */
const mediaOutputs = (pin: string, type: string): EffectOutputsFn => (result) => {
  const r = isObject(result) ? result : {};
  const ref = isObject(r.artifact_ref) ? r.artifact_ref : null;
  const out: JsonObject = {
    [pin]: ref,
    artifact_ref: ref,
    artifact_id: r.artifact_id ?? null,
    content_type: r.content_type ?? null,
    outputs: Array.isArray(r.outputs) ? r.outputs : [],
    success: ref !== null,
    meta: {
      schema: `abstractflow.${type}.v1.meta`,
      modality: r.modality ?? null,
      provider: r.provider ?? null,
      model: r.model ?? null,
    },
    raw: r,
  };
  if (type === "transcribe_audio") out.text = typeof r.content === "string" ? r.content : "";
  return out;
};

export const MEDIA_OUTPUTS: Record<string, EffectOutputsFn> = {
  generate_image: mediaOutputs("image_artifact", "generate_image"),
  edit_image: mediaOutputs("image_artifact", "edit_image"),
  generate_voice: mediaOutputs("audio_artifact", "generate_voice"),
  transcribe_audio: mediaOutputs("transcript_artifact", "transcribe_audio"),
};
