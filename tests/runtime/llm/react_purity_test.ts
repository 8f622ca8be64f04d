/**
 * Crash-safety property of the ReAct spec: every node handler is a pure function of the run state
 * (same state in → same plan and same vars out), and effect-emitting nodes never touch vars, so a
 * node re-run after a crash (before its checkpoint) behaves exactly like the first run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createLlmEffectHandlers, reactAgentSpec } from "../../../src/runtime/llm/mod.ts";
import type { StepPlan } from "../../../src/runtime/spec.ts";
import type { Json, JsonObject, RunState } from "../../../src/runtime/types.ts";
import { isoUtc } from "../../../src/util/time.ts";
import { startFakeLlm } from "../../helpers/fake_llm.ts";
import { effectCtx, makeRun, scratchDir } from "./support.ts";

function setPath(vars: JsonObject, path: string, value: Json): void {
  const parts = path.split(".");
  let obj = vars;
  for (const p of parts.slice(0, -1)) {
    if (!obj[p] || typeof obj[p] !== "object" || Array.isArray(obj[p])) obj[p] = {};
    obj = obj[p] as JsonObject;
  }
  obj[parts[parts.length - 1]] = value;
}

Deno.test("ReAct node handlers are deterministic and effect nodes do not mutate vars", async () => {
  const workspace = await scratchDir("react-pure-");
  await Deno.writeTextFile(join(workspace, "notes.txt"), "remember the milk\n");
  const llm = await startFakeLlm([
    { toolCalls: [{ name: "read_file", arguments: { file_path: "notes.txt" } }] },
    {
      toolCalls: [{ name: "read_file", arguments: { file_path: "notes.txt" } }, {
        name: "nope",
        arguments: {},
      }],
    },
    { content: "The notes say to buy milk." },
    { content: "Buy milk." },
  ]);
  try {
    const handlers = createLlmEffectHandlers({
      baseUrl: llm.baseUrl,
      model: "m",
      timeoutS: 5,
      maxRetries: 0,
      toolMode: "local",
    });
    const spec = reactAgentSpec("react-pure", { tools: ["read_file"], max_iterations: 5 });
    let run: RunState = makeRun({ context: { task: "What do my notes say?" }, workspace_root: workspace });
    run.current_node = spec.entry_node;
    const visited: string[] = [];
    for (let step = 0; step < 30 && run.status === "running"; step++) {
      const node: string = run.current_node!;
      visited.push(node);
      const first = structuredClone(run);
      const second = structuredClone(run);
      const planA: StepPlan = await spec.nodes[node](first, { nowIso: isoUtc });
      const planB: StepPlan = await spec.nodes[node](second, { nowIso: isoUtc });
      assert.deepEqual(planA, planB, `plan of ${node}`);
      assert.deepEqual(first.vars, second.vars, `vars after ${node}`);
      const before = run;
      run = first;
      if (planA.complete_output) {
        run.status = "completed";
        run.output = planA.complete_output;
      } else if (planA.effect) {
        assert.deepEqual(first.vars, before.vars, `${node} emits an effect and must not change vars`);
        const outcome = await handlers[planA.effect.type](effectCtx(run, planA.effect));
        assert.equal(outcome.status, "completed", JSON.stringify(outcome));
        if (outcome.status === "completed" && planA.effect.result_key) {
          setPath(run.vars, planA.effect.result_key, outcome.result);
        }
        run.current_node = planA.next_node!;
      } else {
        run.current_node = planA.next_node!;
      }
    }
    assert.deepEqual(visited, [
      "init",
      "reason",
      "parse",
      "act",
      "observe",
      "reason",
      "parse",
      "act",
      "observe",
      "reason",
      "parse",
      "finalize",
      "finalize_parse",
      "done",
    ]);
    assert.equal(run.output!.answer, "Buy milk.");
    const results = ((run.vars._temp as JsonObject).agent as JsonObject).tool_results as JsonObject[];
    assert.deepEqual(results.map((r) => [r.name, r.success]), [["read_file", true], ["read_file", true], [
      "nope",
      false,
    ]]);
    assert.equal(results[2].error, "Unknown tool: nope");
    // Identical calls in different iterations are distinct effects (no stale reuse by payload).
    // three reasoning calls, then the finalize pass (tools were used)
    assert.equal(llm.requests.length, 4);
    // The tool list offered to the model follows agentConfig.tools when _runtime has none.
    const offered = (llm.requests[0].body.tools as JsonObject[]).map((t) => (t.function as JsonObject).name);
    assert.deepEqual(offered, ["read_file"]);
  } finally {
    await llm.close();
    await Deno.remove(workspace, { recursive: true });
  }
});
