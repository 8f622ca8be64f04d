/** VisualFlow compiler: node coverage, entry selection, compile errors, pin resolution precedence. */
import assert from "node:assert/strict";
import type { JsonObject } from "../../src/runtime/types.ts";
import { SUPPORTED_NODE_TYPES } from "../../src/runtime/visualflow/compile.ts";
import { drive, openHarness, pins, visualFlow } from "./harness.ts";

/** bundle-catalog.md: the 32 node types the upstream bundles reach. */
const CATALOG_MINIMUM = [
  "on_flow_start",
  "on_flow_end",
  "agent",
  "llm_call",
  "subflow",
  "emit_event",
  "ask_user",
  "answer_user",
  "set_var",
  "get_var",
  "while",
  "if",
  "sequence",
  "compare",
  "or",
  "not",
  "add",
  "concat",
  "join",
  "split",
  "trim",
  "lowercase",
  "length",
  "get_element",
  "make_array",
  "parse_json",
  "break_object",
  "literal_string",
  "literal_number",
  "json_schema",
  "generate_image",
  "generate_voice",
];
const GATEWAY_EXTRA = [
  "edit_image",
  "for",
  "loop",
  "switch",
  "on_event",
  "on_schedule",
  "wait_until",
  "wait_event",
  "stringify_json",
  "system_datetime",
  "set_var_property",
  "literal_boolean",
  "literal_json",
  "literal_array",
  "coalesce",
  "and",
  "subtract",
  "multiply",
  "divide",
  "uppercase",
];

Deno.test("every catalog node type is supported (media nodes included); code/function/music are not", () => {
  assert.equal(CATALOG_MINIMUM.length, 32);
  for (const t of [...CATALOG_MINIMUM, ...GATEWAY_EXTRA]) {
    assert.ok(SUPPORTED_NODE_TYPES.includes(t), t);
  }
  for (const t of ["code", "function", "generate_music"]) assert.ok(!SUPPORTED_NODE_TYPES.includes(t));
});

Deno.test("pin precedence: wired pins win (even null), declared defaults beat the data bus, others only fill", async () => {
  const flow = visualFlow("pins", [
    ["start", "on_flow_start", {
      inputs: [],
      outputs: [{ id: "exec-out", type: "execution" }, { id: "a", type: "any" }, { id: "b", type: "any" }],
    }],
    ["end", "on_flow_end", {
      inputs: [{ id: "exec-in", type: "execution" }, { id: "a", type: "any" }, { id: "b", type: "any" }, {
        id: "c",
        type: "any",
      }],
      outputs: [],
      pinDefaults: { a: "default-a", b: "default-b", c: "default-c", extra: "ignored" },
    }],
  ], ["start:exec-out->end:exec-in", "start:a->end:a"]);
  const h = await openHarness({ flows: [flow] });
  try {
    const done = await drive(
      h,
      (await h.runtime.start({ workflowId: "pins", vars: { a: null, b: "from-bus" } })).run_id,
    );
    assert.deepEqual(done.output, { a: null, b: "default-b", c: "default-c", success: true });
  } finally {
    await h.close();
  }
});

Deno.test("entry falls back to the first exec node without incoming edges; compile errors are clear", async () => {
  const flow = visualFlow(
    "entry",
    [
      ["lit", "literal_string", { ...pins([], ["value"], false), literalValue: "x" }],
      ["start", "on_flow_start", { inputs: [], outputs: [{ id: "exec-out", type: "execution" }] }],
      ["end", "on_flow_end", {
        inputs: [{ id: "exec-in", type: "execution" }, { id: "v", type: "any" }],
        outputs: [],
      }],
    ],
    ["start:exec-out->end:exec-in", "lit:value->end:v"],
    "lit",
  );
  const bad = visualFlow("bad", [
    ["start", "on_flow_start", {
      inputs: [],
      outputs: [{ id: "exec-out", type: "execution" }, { id: "o", type: "any" }],
    }],
    ["end", "on_flow_end", {
      inputs: [{ id: "exec-in", type: "execution" }, { id: "v", type: "any" }],
      outputs: [],
    }],
  ], ["start:exec-out->end:exec-in", "start:o->end:v", "start:exec-out->end:v"]);
  const h = await openHarness({ flows: [flow, bad] });
  try {
    const run = await h.runtime.start({ workflowId: "entry", vars: {} });
    assert.equal(run.current_node, "start");
    assert.deepEqual((await drive(h, run.run_id)).output, { v: "x", success: true } as JsonObject);
    await assert.rejects(
      h.runtime.start({ workflowId: "bad", vars: {} }),
      /cannot compile workflow 'bad': pin 'end\.v' has more than one data edge/,
    );
  } finally {
    await h.close();
  }
});
