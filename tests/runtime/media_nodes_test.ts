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

const MASK_URL = `data:image/png;base64,${btoa("FAKEMASK")}`;

/** generate_image → edit_image (its artifact as the image, a data-URL mask, 2 images) → end. */
const editFlow = (image?: string) =>
  visualFlow("edit", [
    ["start", "on_flow_start", { inputs: [], outputs: [{ id: "exec-out", type: "execution" }] }],
    ...(image ? [] : [["img", "generate_image", {
      ...pins(["prompt"], ["image_artifact"]),
      pinDefaults: { prompt: "a corsair airplane" },
    }] as [string, string, JsonObject]]),
    ["edit", "edit_image", {
      ...pins(["image_artifact", "mask_artifact", "prompt", "n", "size"], [
        "image_artifact",
        "outputs",
        "success",
      ]),
      pinDefaults: {
        prompt: "explode it in pieces",
        mask_artifact: MASK_URL,
        n: 2,
        size: "256x256",
        ...(image ? { image_artifact: image } : {}),
      },
      effectConfig: { image_model: "edit-model" },
    }],
    ["end", "on_flow_end", {
      inputs: [
        { id: "exec-in", type: "execution" },
        ...["image", "outputs", "ok"].map((id) => ({ id, type: "any" })),
      ],
      outputs: [],
    }],
  ], [
    ...(image ? ["start:exec-out->edit:exec-in"] : [
      "start:exec-out->img:exec-in",
      "img:exec-out->edit:exec-in",
      "img:image_artifact->edit:image_artifact",
    ]),
    "edit:exec-out->end:exec-in",
    "edit:image_artifact->end:image",
    "edit:outputs->end:outputs",
    "edit:success->end:ok",
  ]);

Deno.test("media nodes: edit_image posts the run's image artifact to images/edits and stores the edits", async () => {
  const media = await startFakeLlm();
  const h = await openHarness({
    flows: [editFlow()],
    env: { ABSTRACTGATEWAY_MEDIA_BASE_URL: media.baseUrl },
  });
  try {
    const run = await drive(h, (await h.runtime.start({ workflowId: "edit", vars: {} })).run_id);
    assert.equal(run.status, "completed", run.error ?? "");
    assert.deepEqual(media.requests.map((r) => r.path), ["/v1/images/generations", "/v1/images/edits"]);
    assert.deepEqual(media.requests[1].body, {
      prompt: "explode it in pieces",
      model: "edit-model",
      n: "2",
      size: "256x256",
      response_format: "b64_json",
      image_name: "img.png",
      image_type: "image/png",
      image: "FAKEPNG:a corsair airplane",
      mask: "FAKEMASK",
      mask_type: "image/png",
    });
    const out = run.output as JsonObject;
    assert.equal(out.ok, true);
    const refs = out.outputs as JsonObject[];
    assert.equal(refs.length, 2);
    assert.equal((out.image as JsonObject).$artifact, refs[0].$artifact);
    for (const [i, ref] of refs.entries()) {
      const stored = await h.stores.artifacts.load(String(ref.$artifact));
      assert.equal(stored?.meta.content_type, "image/png");
      assert.equal(stored?.meta.run_id, run.run_id);
      assert.equal(
        new TextDecoder().decode(stored!.content),
        `FAKEEDIT${i + 1}:explode it in pieces:FAKEPNG:a corsair airplane`,
      );
    }
  } finally {
    await h.close();
    await media.close();
  }
});

Deno.test("media nodes: edit_image without a media endpoint fails naming the setting", async () => {
  const h = await openHarness({ flows: [editFlow(`data:image/png;base64,${btoa("IMG")}`)] });
  try {
    const run = await drive(h, (await h.runtime.start({ workflowId: "edit", vars: {} })).run_id);
    assert.equal(run.status, "failed");
    assert.match(
      String(run.error),
      /Cannot run media task 'image_edit': no media backend is configured \(set ABSTRACTGATEWAY_MEDIA_BASE_URL\)/,
    );
  } finally {
    await h.close();
  }
});
