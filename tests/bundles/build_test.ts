import assert from "node:assert/strict";
import { join } from "node:path";
import { buildAll, BUNDLES_DIR, DEFAULTS_MODULE, defaultsModule } from "../../bundles/build.ts";
import { entrypointInputs } from "../../src/bundles/inspect.ts";
import { nodeTypeOf } from "../../src/bundles/namespace.ts";
import { readFlowBundle } from "../../src/bundles/reader.ts";

/** Node types our example bundles may use (runtime-model.md §7.5). */
const KNOWN_TYPES = new Set([
  "on_flow_start",
  "on_flow_end",
  "concat",
  "ask_user",
  "answer_user",
  "compare",
  "if",
  "wait_event",
  "agent",
  "on_event",
  "break_object",
  "literal_string",
]);

Deno.test("bundles: rebuilding from bundles/src gives the committed bytes", async () => {
  const built = await buildAll();
  assert.deepEqual(built.map((b) => b.fileName), [
    "approval@1.0.0.flow",
    "assistant@1.0.0.flow",
    "events@1.0.0.flow",
    "hello@1.0.0.flow",
  ]);
  for (const b of built) {
    const committed = await Deno.readFile(join(BUNDLES_DIR, b.fileName));
    assert.deepEqual(committed, b.bytes, `${b.fileName} is stale: run deno run -A bundles/build.ts`);
  }
  assert.equal(
    await Deno.readTextFile(DEFAULTS_MODULE),
    defaultsModule(built),
    "src/bundles/defaults.gen.ts is stale: run deno run -A bundles/build.ts",
  );
  const again = await buildAll();
  assert.deepEqual(again.map((b) => b.bytes), built.map((b) => b.bytes), "deterministic");
});

Deno.test("bundles: our example bundles are valid and use known node types", async () => {
  for (
    const name of ["approval@1.0.0.flow", "assistant@1.0.0.flow", "events@1.0.0.flow", "hello@1.0.0.flow"]
  ) {
    const b = await readFlowBundle(await Deno.readFile(join(BUNDLES_DIR, name)));
    for (const flow of Object.values(b.flows)) {
      for (const node of flow.nodes) assert.ok(KNOWN_TYPES.has(nodeTypeOf(node)), `${name}: ${node.type}`);
      const ids = new Set(flow.nodes.map((n) => n.id));
      for (const e of flow.edges) {
        assert.ok(ids.has(e.source) && ids.has(e.target), `${name}: dangling edge ${e.id}`);
      }
    }
  }
  const approval = await readFlowBundle(await Deno.readFile(join(BUNDLES_DIR, "approval@1.0.0.flow")));
  assert.equal(approval.manifest.default_entrypoint, "approve");
  assert.deepEqual(entrypointInputs(approval.flows.approve), [{
    id: "request",
    label: "request",
    type: "string",
  }]);
  const hello = await readFlowBundle(await Deno.readFile(join(BUNDLES_DIR, "hello@1.0.0.flow")));
  assert.deepEqual(entrypointInputs(hello.flows.hello), [{
    id: "name",
    label: "name",
    type: "string",
    default: "world",
  }]);
  const assistant = await readFlowBundle(await Deno.readFile(join(BUNDLES_DIR, "assistant@1.0.0.flow")));
  const agent = assistant.flows.assistant.nodes.find((n) => n.type === "agent")!;
  assert.equal(
    (agent.data.agentConfig as Record<string, unknown>)._react_workflow_id,
    "visual_react_agent_assistant_1_0_0_assistant_agent",
  );
});
