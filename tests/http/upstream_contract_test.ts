/**
 * HTTP shapes real upstream clients rely on: discovery contracts, history_bundle timing and snapshot
 * fields, FastAPI 422 bodies, the session memory owner run, artifact list descriptors and the
 * failed-effect error wording. One server for all of them.
 */
import assert from "node:assert/strict";
import type { VisualFlow } from "../../src/bundles/types.ts";
import { startEndFlow, unrunnableFlow } from "../helpers/bundles.ts";
import { postJson, startRun, startServer, waitForRun } from "./harness.ts";

const EXEC_IN = { id: "exec-in", label: "", type: "execution" };
const EXEC_OUT = { id: "exec-out", label: "", type: "execution" };

/** start → llm_call with no LLM endpoint configured → end: the effect fails on its only attempt. */
const failingFlow: VisualFlow = {
  id: "fails",
  name: "fails",
  entryNode: "start",
  nodes: [
    {
      id: "start",
      type: "on_flow_start",
      position: { x: 0, y: 0 },
      data: { inputs: [], outputs: [EXEC_OUT] },
    },
    {
      id: "say",
      type: "llm_call",
      position: { x: 0, y: 0 },
      data: { inputs: [EXEC_IN], outputs: [EXEC_OUT], pinDefaults: { prompt: "hi" } },
    },
    { id: "end", type: "on_flow_end", position: { x: 0, y: 0 }, data: { inputs: [EXEC_IN], outputs: [] } },
  ],
  edges: [
    { id: "e1", source: "start", sourceHandle: "exec-out", target: "say", targetHandle: "exec-in" },
    { id: "e2", source: "say", sourceHandle: "exec-out", target: "end", targetHandle: "exec-in" },
  ],
};

Deno.test("upstream HTTP contract: capabilities, history_bundle, 422 bodies, session owner run, artifacts, effect errors", async (t) => {
  const s = await startServer({
    bundles: [{
      bundleId: "demo",
      version: "0.0.1",
      flows: { root: startEndFlow("root"), fails: failingFlow, media: unrunnableFlow("media") },
      defaultEntrypoint: "root",
    }],
  });
  try {
    await t.step(
      "discovery contracts carry every client's run surface; the flow editor is available",
      async () => {
        const { body } = await s.json("/api/gateway/discovery/capabilities");
        const c = body.capabilities.contracts;
        assert.equal(c.version, 1);
        assert.equal(c.common.attachments.upload.endpoint, "/api/gateway/attachments/upload");
        assert.equal(c.common.workspace.policy_endpoint, "/api/gateway/workspace/policy");
        assert.equal(c.flow_editor.available, true);
        assert.equal(c.flow_editor.version, 1);
        assert.equal(
          c.flow_editor.run_input_schema.endpoint,
          "/api/gateway/bundles/{bundle_id}/flows/{flow_id}/input_schema",
        );
        assert.equal(c.flow_editor.bundles.upload.available, true);
        for (const client of [c.common, c.flow_editor, c.assistant, c.abstractcode]) {
          assert.deepEqual(client.runs, c.common.runs);
          assert.deepEqual(client.ledger, c.common.ledger);
          assert.deepEqual(client.artifacts, c.common.artifacts);
        }
        assert.equal(c.assistant.available, true);
        assert.equal(c.abstractcode.available, true);
        assert.equal(c.abstractcode.version, 1);
        assert.equal(c.abstractcode.workspace.policy_endpoint, "/api/gateway/workspace/policy");
      },
    );

    const runId = await startRun(s, { bundle_id: "demo", session_id: "s1" });
    await waitForRun(s, runId);

    await t.step("history_bundle: timeline durations, snapshot format and creation time", async () => {
      const { body } = await s.json(`/api/gateway/runs/${runId}/history_bundle`);
      assert.ok(body.timeline.length > 0);
      for (const entry of body.timeline) {
        assert.equal(typeof entry.duration_ms, "number", JSON.stringify(entry));
        assert.ok(entry.duration_ms >= 0);
      }
      assert.equal(body.workflow_snapshot.format, "visualflow_json");
      assert.match(body.workflow_snapshot.created_at, /^\d{4}-\d\d-\d\dT/);
    });

    await t.step("422 detail lists for malformed JSON, an empty body and wrong field types", async () => {
      const malformed = await s.json("/api/gateway/runs/start", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: "{not json",
      });
      assert.equal(malformed.status, 422);
      const [item] = malformed.body.detail;
      assert.equal(item.type, "json_invalid");
      assert.deepEqual(item.loc, ["body", 1]);
      assert.equal(item.msg, "JSON decode error");
      assert.equal(typeof item.ctx.error, "string");

      const malformedCommand = await s.json("/api/gateway/commands", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: '{"command_id": ',
      });
      assert.equal(malformedCommand.status, 422);
      assert.equal(malformedCommand.body.detail[0].type, "json_invalid");

      const empty = await s.json("/api/gateway/commands", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
      });
      assert.equal(empty.status, 422);
      assert.deepEqual(empty.body.detail, [{
        type: "missing",
        loc: ["body"],
        msg: "Field required",
        input: null,
      }]);

      const wrongType = await s.json("/api/gateway/runs/start", postJson({ bundle_id: 5 }));
      assert.equal(wrongType.status, 422);
      assert.deepEqual(wrongType.body.detail[0], {
        type: "string_type",
        loc: ["body", "bundle_id"],
        msg: "Input should be a valid string",
        input: 5,
      });

      const wrongCommand = await s.json(
        "/api/gateway/commands",
        postJson({ command_id: "c1", run_id: runId, type: "pause", payload: "x" }),
      );
      assert.equal(wrongCommand.status, 422);
      assert.equal(wrongCommand.body.detail[0].type, "dict_type");
      assert.deepEqual(wrongCommand.body.detail[0].loc, ["body", "payload"]);

      const notObject = await s.json("/api/gateway/runs/start", postJson([1, 2]));
      assert.equal(notObject.status, 422);
      assert.equal(notObject.body.detail[0].type, "model_attributes_type");
    });

    await t.step("session memory owner run has upstream's current_node and actor_id", async () => {
      const { status, body } = await s.json("/api/gateway/runs/session_memory_s1");
      assert.equal(status, 200);
      assert.equal(body.workflow_id, "__session_memory__");
      assert.equal(body.current_node, "done");
      assert.equal(body.actor_id, null);
      assert.equal(body.session_id, "s1");
    });

    await t.step("artifact list items carry descriptor, access and artifact_envelope_v1", async () => {
      const { body } = await s.json(`/api/gateway/runs/${runId}/artifacts`);
      const item = body.items[0];
      assert.equal(item.descriptor.schema_version, 1);
      assert.equal(item.descriptor.render_kind, "json");
      assert.equal(item.descriptor.sha256, item.sha256);
      assert.equal(
        item.access.content,
        `/api/gateway/runs/${runId}/artifacts/${item.artifact_id}/content`,
      );
      assert.equal(item.artifact_envelope_v1.version, 1);
      assert.equal(item.artifact_envelope_v1.ref.$artifact, item.artifact_id);
      const meta = await s.json(`/api/gateway/runs/${runId}/artifacts/${item.artifact_id}`);
      assert.deepEqual(meta.body.descriptor, item.descriptor);
      const content = await s.fetch(item.access.download);
      assert.equal(content.status, 200);
      await content.body?.cancel();
    });

    await t.step(
      "runs/start refuses a flow with a reachable node type it cannot run (400 naming both)",
      async () => {
        const res = await s.json(
          "/api/gateway/runs/start",
          postJson({ bundle_id: "demo", flow_id: "media" }),
        );
        assert.equal(res.status, 400);
        assert.match(
          res.body.detail,
          /^Cannot start run: node 'img' of flow '.*media' has type 'generate_music'/,
        );
        assert.doesNotMatch(res.body.detail, /orphan/);
      },
    );

    await t.step("a failed effect reads 'Effect failed after N attempts: …'", async () => {
      const failed = await waitForRun(s, await startRun(s, { bundle_id: "demo", flow_id: "fails" }));
      assert.equal(failed.status, "failed");
      assert.match(failed.error, /^Effect failed after 1 attempts: No LLM endpoint configured/);
    });
  } finally {
    await s.close();
  }
});
