/** The multi-step flow the crash test runs in a worker subprocess (shared by the test and the worker). */
import type { VisualFlow } from "../../src/bundles/types.ts";
import type { WorkflowSpec } from "../../src/runtime/spec.ts";
import { pins, visualFlow } from "./harness.ts";

export const CRASH_RUN_ID = "00000000-0000-4000-8000-00000000c4a5";

export function crashFlows(): VisualFlow[] {
  const child = visualFlow("crash-child", [
    ["s", "on_flow_start", {
      inputs: [],
      outputs: [{ id: "exec-out", type: "execution" }, { id: "n", type: "number" }],
    }],
    ["say", "answer_user", pins(["message"], ["message"])],
    ["end", "on_flow_end", {
      inputs: [{ id: "exec-in", type: "execution" }, { id: "echo", type: "any" }],
      outputs: [],
    }],
  ], ["s:exec-out->say:exec-in", "say:exec-out->end:exec-in", "s:n->end:echo"]);
  child.nodes[1].data.pinDefaults = { message: "child says hi" };
  const root = visualFlow("crash-root", [
    ["start", "on_flow_start", {
      inputs: [],
      outputs: [{ id: "exec-out", type: "execution" }, { id: "name", type: "string" }],
    }],
    ["hello", "answer_user", pins(["message"], ["message"])],
    ["nap", "wait_until", pins(["duration"], [])],
    ["sub", "subflow", pins(["n"], ["output"])],
    ["bye", "answer_user", pins(["message"], ["message"])],
    ["end", "on_flow_end", {
      inputs: [{ id: "exec-in", type: "execution" }, { id: "greeting", type: "string" }, {
        id: "child",
        type: "any",
      }],
      outputs: [],
    }],
  ], [
    "start:exec-out->hello:exec-in",
    "start:name->hello:message",
    "hello:exec-out->nap:exec-in",
    "nap:exec-out->sub:exec-in",
    "sub:exec-out->bye:exec-in",
    "bye:exec-out->end:exec-in",
    "hello:message->end:greeting",
    "sub:output->end:child",
  ]);
  root.nodes[2].data.pinDefaults = { duration: 1.5 };
  root.nodes[3].data.subflowId = "crash-child";
  root.nodes[3].data.pinDefaults = { n: 7 };
  root.nodes[4].data.pinDefaults = { message: "bye" };
  return [root, child];
}

export const SLOW_RUN_ID = "00000000-0000-4000-8000-0000000051e0";

/** A programmatic spec with one custom effect (`slow_effect`) between two steps. */
export function slowSpec(): WorkflowSpec {
  return {
    workflow_id: "slow",
    entry_node: "work",
    nodes: {
      work: () => ({
        node_id: "work",
        effect: { type: "slow_effect", payload: { job: "render" }, result_key: "job" },
        next_node: "finish",
      }),
      finish: (run) => ({ node_id: "finish", complete_output: { job: run.vars.job ?? null } }),
    },
  };
}
