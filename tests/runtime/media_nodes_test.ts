/**
 * Media nodes compile to llm_call effects with an output selector and run against the
 * operator's OpenAI-compatible media endpoint (our fake server): image → artifact, speech →
 * artifact, transcription of that speech → text. Without a media endpoint the step fails clearly.
 */
import assert from "node:assert/strict";
import type { JsonObject } from "../../src/runtime/types.ts";
import { startFakeLlm } from "../helpers/fake_llm.ts";
import { drive, ledgerOf, openHarness, pins, visualFlow } from "./harness.ts";

const mediaFlow = () =>
  visualFlow("media", [
    ["start", "on_flow_start", { inputs: [], outputs: [{ id: "exec-out", type: "execution" }] }],
    ["img", "generate_image", {
      ...pins(["prompt", "size"], ["image_artifact", "success"]),
      pinDefaults: { prompt: "a red fox", size: "256x256" },
      effectConfig: { image_model: "img-model" },
    }],
    ["say", "generate_voice", {
      ...pins(["text", "voice"], ["audio_artifact"]),
      pinDefaults: { text: "hello there", voice: "nova" },
    }],
    ["hear", "transcribe_audio", { ...pins(["audio_artifact"], ["text", "transcript_artifact"]) }],
    ["end", "on_flow_end", {
      inputs: [
        { id: "exec-in", type: "execution" },
        ...["image", "image_ok", "audio", "heard"].map((id) => ({ id, type: "any" })),
      ],
      outputs: [],
    }],
  ], [
    "start:exec-out->img:exec-in",
    "img:exec-out->say:exec-in",
    "say:exec-out->hear:exec-in",
    "hear:exec-out->end:exec-in",
    "say:audio_artifact->hear:audio_artifact",
    "img:image_artifact->end:image",
    "img:success->end:image_ok",
    "say:audio_artifact->end:audio",
    "hear:text->end:heard",
  ]);

Deno.test("media nodes: image, speech and transcription become run artifacts", async () => {
  const media = await startFakeLlm();
  const h = await openHarness({
    flows: [mediaFlow()],
    env: { ABSTRACTGATEWAY_MEDIA_BASE_URL: media.baseUrl, ABSTRACTGATEWAY_MEDIA_API_KEY: "sk-media" },
  });
  try {
    const run = await drive(h, (await h.runtime.start({ workflowId: "media", vars: {} })).run_id);
    assert.equal(run.status, "completed", run.error ?? "");
    const out = run.output as JsonObject;
    assert.equal(out.image_ok, true);
    assert.equal(out.heard, "hello there");
    const image = out.image as JsonObject;
    const stored = await h.stores.artifacts.load(String(image.$artifact));
    assert.equal(stored?.meta.content_type, "image/png");
    assert.equal(stored?.meta.run_id, run.run_id);
    assert.equal(new TextDecoder().decode(stored!.content), "FAKEPNG:a red fox");
    const audio = await h.stores.artifacts.load(String((out.audio as JsonObject).$artifact));
    assert.equal(audio?.meta.content_type, "audio/wav");

    assert.deepEqual(media.requests.map((r) => r.path), [
      "/v1/images/generations",
      "/v1/audio/speech",
      "/v1/audio/transcriptions",
    ]);
    assert.equal(media.requests[0].body.model, "img-model");
    assert.equal(media.requests[0].body.size, "256x256");
    assert.equal(media.requests[1].body.voice, "nova");
    assert.equal(media.requests[0].headers.authorization, "Bearer sk-media");
    const effect = (await ledgerOf(h, run.run_id)).find((r) =>
      r.node_id === "img" && r.status === "started"
    )!;
    assert.equal(effect.effect?.type, "llm_call");
    assert.deepEqual((effect.effect!.payload.output as JsonObject).task, "image_generation");
  } finally {
    await h.close();
    await media.close();
  }
});

Deno.test("media nodes: without a media endpoint the step fails naming the setting", async () => {
  const h = await openHarness({ flows: [mediaFlow()] });
  try {
    const run = await drive(h, (await h.runtime.start({ workflowId: "media", vars: {} })).run_id);
    assert.equal(run.status, "failed");
    assert.match(
      String(run.error),
      /Cannot run media task 'image_generation': no media backend is configured \(set ABSTRACTGATEWAY_MEDIA_BASE_URL\)/,
    );
  } finally {
    await h.close();
  }
});
