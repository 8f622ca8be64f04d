/** Pure node families (literals, math, logic, strings, data) with upstream (Python) semantics. */
import assert from "node:assert/strict";
import type { Json, JsonObject, RunState } from "../../src/runtime/types.ts";
import type { FlowNode } from "../../src/runtime/visualflow/graph.ts";
import { DATA_NODES } from "../../src/runtime/visualflow/data.ts";
import { LITERAL_NODES } from "../../src/runtime/visualflow/literals.ts";
import { LOGIC_NODES } from "../../src/runtime/visualflow/logic.ts";
import { MATH_NODES } from "../../src/runtime/visualflow/math.ts";
import { STRING_NODES } from "../../src/runtime/visualflow/strings.ts";
import { VAR_PURE_NODES } from "../../src/runtime/visualflow/vars.ts";

const node = (type: string, inputs: string[] = [], data: JsonObject = {}): FlowNode => ({
  id: "n1",
  type,
  data,
  inputs: inputs.map((id) => ({ id, type: "any" })),
  outputs: [],
  exec: false,
});
const run = (vars: JsonObject = {}): RunState => ({
  run_id: "r",
  workflow_id: "w",
  status: "running",
  current_node: null,
  vars,
  waiting: null,
  output: null,
  error: null,
  created_at: "",
  updated_at: "",
  actor_id: null,
  session_id: null,
  parent_run_id: null,
});
const result = (
  fn: (i: JsonObject, n: FlowNode, r: RunState) => JsonObject,
  i: JsonObject,
  n = node("x"),
): Json => fn(i, n, run()).result;

Deno.test("literals expose the raw literalValue on pin `value`", () => {
  for (
    const t of [
      "literal_string",
      "literal_number",
      "literal_boolean",
      "literal_json",
      "literal_array",
      "json_schema",
    ]
  ) {
    assert.deepEqual(LITERAL_NODES[t]({}, node(t, [], { literalValue: { a: [1] } }), run()), {
      value: { a: [1] },
    });
  }
});

Deno.test("math: floats, division by zero is an error", () => {
  assert.equal(result(MATH_NODES.add, { a: 1, b: 1.5 }), 2.5);
  assert.equal(result(MATH_NODES.add, { a: "2", b: 3 }), 5);
  assert.equal(result(MATH_NODES.subtract, { a: 5, b: 7 }), -2);
  assert.equal(result(MATH_NODES.multiply, { a: 3, b: 4 }), 12);
  assert.equal(result(MATH_NODES.divide, { a: 1, b: 4 }), 0.25);
  assert.throws(() => result(MATH_NODES.divide, { a: 1, b: 0 }), /Division by zero/);
  assert.throws(() => result(MATH_NODES.add, { a: "x", b: 1 }), /not a number/);
  assert.equal(result(MATH_NODES.modulo, { a: -1, b: 3 }), 2);
});

Deno.test("compare: deep equality, 1 == 1.0, incomparable ordering is false, unknown op throws", () => {
  const c = (a: Json, b: Json, op = "==") => result(LOGIC_NODES.compare, { a, b, op });
  assert.equal(c({ x: [1, 2] }, { x: [1, 2] }), true);
  assert.equal(c(1, 1.0), true);
  assert.equal(c(true, 1), true);
  assert.equal(c("hello", 0, ">"), false); // yoda relies on this
  assert.equal(c("b", "a", ">"), true);
  assert.equal(c(2, 3, "<="), true);
  assert.equal(c(2, 3, "!="), true);
  assert.throws(() => c(1, 2, "~"), /unknown compare operator/);
  assert.equal(result(LOGIC_NODES.compare, { a: 1, b: 1 }), true); // default op ==
});

Deno.test("not/and/or use Python truthiness; coalesce picks the first non-null pin in order", () => {
  assert.equal(result(LOGIC_NODES.not, { value: [] }), true);
  assert.equal(result(LOGIC_NODES.not, { value: {} }), true);
  assert.equal(result(LOGIC_NODES.not, { value: "x" }), false);
  assert.equal(result(LOGIC_NODES.or, { a: 0, b: "" }), false);
  assert.equal(result(LOGIC_NODES.or, { a: 0, b: "y" }), true);
  assert.equal(result(LOGIC_NODES.and, { a: 1, b: [1] }), true);
  assert.equal(result(LOGIC_NODES.coalesce, { a: null, b: 0, c: 5 }, node("coalesce", ["a", "b", "c"])), 0);
});

Deno.test("strings: concat separator and str(), split/join escapes, absent vs present-null pins", () => {
  const concat = node("concat", ["a", "b", "c"], { concatConfig: { separator: "\\n" } });
  assert.equal(result(STRING_NODES.concat, { a: "x", b: null, c: true }, concat), "x\n\nTrue");
  assert.equal(
    result(STRING_NODES.concat, { a: "TASKS SET : ", b: "build" }, node("concat", ["a", "b"])),
    "TASKS SET :  build",
  );
  assert.deepEqual(result(STRING_NODES.split, { text: " stop  now ", delimiter: " " }), ["stop", "now"]);
  assert.deepEqual(result(STRING_NODES.split, { text: "a, b,,c" }), ["a", "b", "c"]);
  assert.deepEqual(result(STRING_NODES.split, { text: "a,b,c", maxsplit: 1 }), ["a", "b,c"]);
  assert.equal(
    result(STRING_NODES.join, { items: ["a", null, 2], delimiter: "\\nTASK : " }),
    "a\nTASK : \nTASK : 2",
  );
  assert.equal(result(STRING_NODES.join, { items: "solo" }), "solo");
  assert.equal(result(STRING_NODES.length, {}), 0);
  assert.equal(result(STRING_NODES.length, { text: null }), 4); // "None"
  assert.equal(result(STRING_NODES.trim, { text: "  Hi " }), "Hi");
  assert.equal(result(STRING_NODES.lowercase, { text: "ABC" }), "abc");
  assert.equal(result(STRING_NODES.uppercase, { text: "abc" }), "ABC");
  assert.equal(
    result(STRING_NODES.replace, { text: "a-a-a", find: "a", replace: "b", mode: "first" }),
    "b-a-a",
  );
  assert.equal(result(STRING_NODES.replace, { text: "a-a-a", find: "a", replace: "b" }), "b-b-b");
  assert.equal(result(STRING_NODES.substring, { text: "hello", start: 1, end: 3 }), "el");
});

Deno.test("data: get_element, make_array, parse_json leniency, break_object paths, stringify_json modes", () => {
  assert.deepEqual(DATA_NODES.get_element({ array: ["a", "b"], index: -1 }, node("get_element"), run()), {
    result: "b",
    found: true,
  });
  assert.deepEqual(
    DATA_NODES.get_element({ array: [], index: 0, default: "stop" }, node("get_element"), run()),
    {
      result: "stop",
      found: false,
    },
  );
  assert.deepEqual(result(DATA_NODES.make_array, { a: "x", b: null }, node("make_array", ["a", "b", "c"])), [
    "x",
  ]);
  assert.deepEqual(result(DATA_NODES.parse_json, { text: '```json\n{"continue": false}\n```' }), {
    continue: false,
  });
  assert.deepEqual(result(DATA_NODES.parse_json, { text: 'Sure: {"a": 1} done' }), { a: 1 });
  assert.deepEqual(result(DATA_NODES.parse_json, { text: "42" }), { value: 42 });
  assert.throws(() => result(DATA_NODES.parse_json, { text: "not json" }), /Invalid JSON/);
  const br = node("break_object", [], {
    breakConfig: { selectedPaths: ["continue", "meta.score", "missing"] },
  });
  assert.deepEqual(
    DATA_NODES.break_object({ object: '{"continue": true, "meta": {"score": 3}}' }, br, run()),
    {
      continue: true,
      "meta.score": 3,
      missing: null,
    },
  );
  assert.equal(result(DATA_NODES.stringify_json, { value: { a: [1, 2] } }), '{"a": [1, 2]}');
  assert.equal(result(DATA_NODES.stringify_json, { value: { a: 1 }, mode: "minified" }), '{"a":1}');
  const dt = DATA_NODES.system_datetime({}, node("system_datetime"), run());
  assert.match(String(dt.iso), /\+00:00$/);
});

Deno.test("get_var reads dotted paths live from run vars; get_context exposes the active context", () => {
  const r = run({ a: { b: [10, 20] }, context: { task: "t", messages: [{ role: "user", content: "x" }] } });
  assert.deepEqual(VAR_PURE_NODES.get_var({ name: "a.b.1" }, node("get_var"), r), { value: 20 });
  assert.deepEqual(VAR_PURE_NODES.get_var({ name: "nope" }, node("get_var"), r), { value: null });
  assert.equal(VAR_PURE_NODES.get_context({}, node("get_context"), r).task, "t");
});
