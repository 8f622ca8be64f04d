/** Our ledgers match the record shapes of the real upstream ledger samples (compat group, GATEWAY_COMPAT_DIR). */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readFlowBundle } from "../../src/bundles/reader.ts";
import type { Json, JsonObject, StepRecord } from "../../src/runtime/types.ts";
import { startFakeLlm } from "../helpers/fake_llm.ts";
import { compatTest, ledgerSamplesDir, upstreamBundlesDir } from "../helpers/compat.ts";
import { drive, ledgerOf, openHarness } from "./harness.ts";

async function sampleLedger(folder: string, workflowPrefix: string): Promise<StepRecord[]> {
  const SAMPLES = ledgerSamplesDir();
  for await (const e of Deno.readDir(join(SAMPLES, folder))) {
    if (!e.name.startsWith("run_")) continue;
    const run = JSON.parse(await Deno.readTextFile(join(SAMPLES, folder, e.name)));
    if (run.parent_run_id === null && String(run.workflow_id).startsWith(workflowPrefix)) {
      const text = await Deno.readTextFile(
        join(SAMPLES, folder, e.name.replace("run_", "ledger_").replace(".json", ".jsonl")),
      );
      return text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
    }
  }
  throw new Error(`no root run sample for ${workflowPrefix} in ${folder}`);
}

const keys = (
  v: Json | undefined,
): string[] => (v && typeof v === "object" && !Array.isArray(v) ? Object.keys(v) : []);

/** What a replaying client relies on: field order, node/status/effect sequence, payload and result keys. */
function shape(records: StepRecord[]): Json[] {
  return records.map((r) => {
    const effect = r.effect as unknown as JsonObject | null;
    const payload = effect?.payload as JsonObject | undefined;
    return {
      fields: Object.keys(r),
      node: r.node_id,
      status: r.status,
      effect: effect ? keys(effect) : null,
      type: effect ? String(effect.type) : null,
      payload: effect?.type === "resume" ? keys(payload) : keys(payload).filter((k) => k !== "vars"),
      result: keys(r.result as JsonObject),
      key: r.idempotency_key === null
        ? null
        : r.idempotency_key.startsWith("system:")
        ? r.idempotency_key
        : "hex",
    };
  });
}

async function ours(bundleFile: string, workflowId: string, vars: JsonObject): Promise<StepRecord[]> {
  const llm = await startFakeLlm();
  const bundle = await readFlowBundle(await Deno.readFile(join(upstreamBundlesDir(), bundleFile)));
  const h = await openHarness({ bundles: [bundle], env: { ABSTRACTGATEWAY_LLM_BASE_URL: llm.baseUrl } });
  try {
    const run = await h.runtime.start({ workflowId, vars });
    assert.equal((await drive(h, run.run_id)).status, "completed");
    return await ledgerOf(h, run.run_id);
  } finally {
    await h.close();
    await llm.close();
  }
}

compatTest("basic-llm-test ledger has the upstream record shapes", async () => {
  const mine = await ours("basic-llm-test@0.0.0.flow", "basic-llm-test@0.0.0:ec5a574d", {
    prompt: "hello",
    provider: "lmstudio",
    model: "qwen",
  });
  const sample = await sampleLedger("basic-llm-test", "basic-llm-test@");
  const a = shape(mine), b = shape(sample);
  // Result keys of the llm_call come from the LLM client; everything the engine writes must match.
  for (const s of [a, b]) (s[1] as JsonObject).result = [];
  assert.deepEqual(a, b);
});

compatTest("basic-agent root ledger has the upstream record shapes", async () => {
  const mine = await ours("basic-agent@0.0.1.flow", "basic-agent@0.0.1:81795ea9", { prompt: "list files" });
  const sample = await sampleLedger("basic-agent", "basic-agent@0.0.1:81795ea9");
  const a = shape(mine), b = shape(sample);
  // The completion record's output is the agent's output object: compare its keys separately.
  const outKeys = (rs: StepRecord[]) => keys((rs.at(-2)!.result as JsonObject).output);
  assert.deepEqual(outKeys(mine), outKeys(sample));
  assert.deepEqual(a, b);
  const subWait = (rs: StepRecord[]) => keys(((rs[1].result as JsonObject).wait as JsonObject).details);
  assert.deepEqual(subWait(mine), subWait(sample));
  const agentVars = (rs: StepRecord[]) => keys((rs[3].effect!.payload as JsonObject).vars);
  assert.deepEqual(agentVars(mine), agentVars(sample));
});
