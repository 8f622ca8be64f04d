/**
 * ABSTRACTGATEWAY_LLM_MODEL_OVERRIDE: bundles pin models of other providers (basic-agent names
 * lmstudio / qwen/qwen3-next-80b); with the override on, every llm_call — plain nodes and the ReAct
 * agent's — sends the configured model instead. Real WorkflowRuntime, upstream bundles, fake LLM.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../../src/config/config.ts";
import { readFlowBundle } from "../../../src/bundles/reader.ts";
import type { JsonObject } from "../../../src/runtime/types.ts";
import { type FakeLlm, type FakeLlmReply, startFakeLlm } from "../../helpers/fake_llm.ts";
import { compatTest, upstreamBundlesDir } from "../../helpers/compat.ts";
import { OUR_BUNDLES } from "../../helpers/paths.ts";
import { drive, type Harness, ledgerOf, openHarness } from "../harness.ts";

const CONFIGURED = "gpt-configured";

async function withBundle(
  path: string,
  override: boolean,
  replies: FakeLlmReply[],
  body: (h: Harness, llm: FakeLlm, workspace: string) => Promise<void>,
): Promise<void> {
  const bundle = await readFlowBundle(await Deno.readFile(path));
  const llm = await startFakeLlm(replies);
  try {
    const h = await openHarness({
      bundles: [bundle],
      env: {
        ABSTRACTGATEWAY_LLM_BASE_URL: llm.baseUrl,
        ABSTRACTGATEWAY_LLM_MODEL: CONFIGURED,
        ABSTRACTGATEWAY_LLM_MODEL_OVERRIDE: override ? "1" : "0",
        ABSTRACTGATEWAY_LLM_MAX_RETRIES: "0",
        ABSTRACTGATEWAY_LOG_LEVEL: "error",
      },
    });
    try {
      const workspace = join(h.dir, "workspace");
      await Deno.mkdir(workspace);
      await body(h, llm, workspace);
    } finally {
      await h.close();
    }
  } finally {
    await llm.close();
  }
}

/** The `model` recorded in every completed llm_call result of the run and its children. */
async function recordedModels(h: Harness): Promise<string[]> {
  const models: string[] = [];
  for (const run of (await h.stores.runs.list({ limit: 50 })).items) {
    for (const r of await ledgerOf(h, run.run_id)) {
      if (r.effect?.type === "llm_call" && r.status === "completed") {
        models.push(String((r.result as JsonObject).model));
      }
    }
  }
  return models;
}

const agentReplies = (): FakeLlmReply[] => [
  { toolCalls: [{ name: "list_files", arguments: { directory_path: "." } }] },
  { content: "Listed." },
  { content: "Nothing much here." }, // the finalize pass
];

for (const override of [true, false]) {
  const ours = override ? CONFIGURED : "qwen";
  Deno.test(`assistant with the model override ${override ? "on" : "off"}: the ReAct agent sends ${ours}`, async () => {
    const file = join(OUR_BUNDLES, "assistant@1.0.0.flow");
    await withBundle(file, override, agentReplies(), async (h, llm, workspace) => {
      const started = await h.runtime.start({
        workflowId: "assistant@1.0.0:assistant",
        vars: { prompt: "list files", provider: "lmstudio", model: "qwen", workspace_root: workspace },
      });
      const run = await drive(h, started.run_id);
      assert.equal(run.status, "completed", run.error ?? "");
      assert.equal(run.output!.response, "Nothing much here.");
      assert.deepEqual(llm.requests.map((r) => r.body.model), [ours, ours, ours]);
      assert.deepEqual(await recordedModels(h), [ours, ours, ours]);
    });
  });

  const sent = override ? CONFIGURED : "qwen/qwen3-next-80b";
  compatTest(
    `basic-agent with the model override ${override ? "on" : "off"}: the ReAct agent sends ${sent}`,
    async () => {
      const file = join(upstreamBundlesDir(), "basic-agent@0.0.1.flow");
      await withBundle(file, override, agentReplies(), async (h, llm, workspace) => {
        const started = await h.runtime.start({
          workflowId: "basic-agent@0.0.1:81795ea9",
          vars: { prompt: "list files", workspace_root: workspace },
        });
        const run = await drive(h, started.run_id);
        assert.equal(run.status, "completed", run.error ?? "");
        assert.equal(run.output!.response, "Nothing much here.");
        // reasoning with a tool call, reasoning with the answer, the finalize pass
        assert.deepEqual(llm.requests.map((r) => r.body.model), [sent, sent, sent]);
        assert.deepEqual(await recordedModels(h), [sent, sent, sent]);
      });
    },
  );

  const nodeSent = override ? CONFIGURED : "qwen";
  compatTest(
    `basic-llm-test with the model override ${override ? "on" : "off"}: the llm_call node sends ${nodeSent}`,
    async () => {
      const file = join(upstreamBundlesDir(), "basic-llm-test@0.0.0.flow");
      await withBundle(file, override, [], async (h, llm) => {
        const started = await h.runtime.start({
          workflowId: "basic-llm-test@0.0.0:ec5a574d",
          vars: { prompt: "hello", provider: "lmstudio", model: "qwen" },
        });
        const run = await drive(h, started.run_id);
        assert.equal(run.status, "completed", run.error ?? "");
        assert.deepEqual(llm.requests.map((r) => r.body.model), [nodeSent]);
        assert.equal((run.output!.meta as JsonObject).model, nodeSent);
        assert.deepEqual(await recordedModels(h), [nodeSent]);
      });
    },
  );
}

Deno.test("the model override is off by default and needs ABSTRACTGATEWAY_LLM_MODEL", () => {
  assert.equal(loadConfig({}).llmModelOverride, false);
  assert.equal(
    loadConfig({ ABSTRACTGATEWAY_LLM_MODEL_OVERRIDE: "yes", ABSTRACTGATEWAY_LLM_MODEL: "m" })
      .llmModelOverride,
    true,
  );
  assert.throws(
    () => loadConfig({ ABSTRACTGATEWAY_LLM_MODEL_OVERRIDE: "1" }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.message === "ABSTRACTGATEWAY_LLM_MODEL_OVERRIDE=1 needs ABSTRACTGATEWAY_LLM_MODEL",
  );
});
