/** Our example bundles (bundles/*.flow) run on the real runtime with a file store. */
import assert from "node:assert/strict";
import { BUNDLES_DIR } from "../../bundles/build.ts";
import { openBundleHost } from "../../src/bundles/host.ts";
import { loadConfig } from "../../src/config/config.ts";
import { WorkflowRuntime } from "../../src/runtime/workflow_runtime.ts";
import type { JsonObject, RunState } from "../../src/runtime/types.ts";
import { openStores } from "../../src/store/open.ts";
import { tempDir } from "./fixtures.ts";

async function withRuntime(fn: (rt: WorkflowRuntime) => Promise<void>): Promise<void> {
  await using tmp = await tempDir();
  const config = loadConfig({
    ABSTRACTGATEWAY_DATA_DIR: tmp.path,
    ABSTRACTGATEWAY_FLOWS_DIR: BUNDLES_DIR,
    ABSTRACTGATEWAY_LOG_LEVEL: "none",
  });
  const stores = await openStores({ backend: "file", dataDir: config.dataDir, dbPath: config.dbPath });
  try {
    const bundles = await openBundleHost({
      flowsDir: config.flowsDir,
      dataDir: config.dataDir,
      maxBundleBytes: config.maxBundleBytes,
    });
    assert.deepEqual(bundles.errors(), []);
    await fn(new WorkflowRuntime({ stores, workflows: bundles, config }));
  } finally {
    await stores.close();
  }
}

async function runUntilWait(rt: WorkflowRuntime, workflowId: string, vars: JsonObject): Promise<RunState> {
  const run = await rt.start({ workflowId, vars });
  return await rt.tick(run.run_id);
}

Deno.test("examples: hello completes at once", async () => {
  await withRuntime(async (rt) => {
    const run = await runUntilWait(rt, "hello@1.0.0:hello", { name: "Ada" });
    assert.equal(run.status, "completed");
    assert.deepEqual(run.output, { message: "Hello, Ada", success: true });
    const dflt = await runUntilWait(rt, "hello@1.0.0:hello", {});
    assert.equal(dflt.output?.message, "Hello, world");
  });
});

Deno.test("examples: approval asks, branches on the answer and ends with the decision", async () => {
  await withRuntime(async (rt) => {
    for (const [answer, decision] of [["approve", "approved"], ["reject", "rejected"]]) {
      const waiting = await runUntilWait(rt, "approval@1.0.0:approve", { request: "deploy v2" });
      assert.equal(waiting.status, "waiting");
      assert.equal(waiting.waiting?.reason, "user");
      assert.equal(waiting.waiting?.prompt, "Approve deploy v2?");
      assert.deepEqual(waiting.waiting?.choices, ["approve", "reject"]);
      assert.equal(waiting.waiting?.allow_free_text, false);
      await rt.resume(waiting.run_id, { waitKey: waiting.waiting!.wait_key, payload: { response: answer } });
      const done = await rt.tick(waiting.run_id);
      assert.equal(done.status, "completed");
      assert.deepEqual(done.output, { decision, request: "deploy v2", success: true });
    }
  });
});

Deno.test("examples: wait-decision waits on its event key until resumed", async () => {
  await withRuntime(async (rt) => {
    const waiting = await runUntilWait(rt, "approval@1.0.0:wait-decision", {});
    assert.equal(waiting.status, "waiting");
    assert.equal(waiting.waiting?.reason, "event");
    assert.equal(waiting.waiting?.wait_key, "approval.decision");
    await rt.resume(waiting.run_id, { waitKey: "approval.decision", payload: { approved: true } });
    const done = await rt.tick(waiting.run_id);
    assert.equal(done.status, "completed");
    assert.deepEqual(done.output, { decision: { approved: true }, success: true });
  });
});
