/**
 * Edge cases of the pure nodes, each run as a compiled flow on real stores:
 * on_flow_start (one output pin per given input) → pure node → on_flow_end.out.
 * Pins missing from `in` stay unconnected; a `null` in `in` is a wired null. Expected values follow
 * upstream's Python semantics (float(), round half to even, str(None) == "None", …).
 */
import assert from "node:assert/strict";
import type { Json, JsonObject } from "../../src/runtime/types.ts";
import { drive, openHarness, visualFlow } from "./harness.ts";

interface Case {
  type: string;
  /** Declared data input pins (defaults to the keys of `in`). */
  pins?: string[];
  in: JsonObject;
  data?: JsonObject;
  /** Output pin read into the end node (default `result`). */
  pin?: string;
  want?: Json;
  error?: RegExp;
}

const C = (type: string, input: JsonObject, want: Json, extra: Partial<Case> = {}): Case => ({
  type,
  in: input,
  want,
  ...extra,
});
const E = (type: string, input: JsonObject, error: RegExp, extra: Partial<Case> = {}): Case => ({
  type,
  in: input,
  error,
  ...extra,
});
const AB = { pins: ["a", "b"] };
const ABC = { pins: ["a", "b", "c"] };
const paths = (...selectedPaths: string[]) => ({
  data: { breakConfig: { selectedPaths } },
  pin: selectedPaths[0],
});

const CASES: Case[] = [
  // math: unset pins read 0 (1 for divisor, modulus, exponent); float() coercion
  C("add", { a: 2 }, 2, AB),
  C("add", {}, 0, AB),
  C("add", { a: "2", b: 3 }, 5),
  C("add", { a: " 1.5 ", b: 1 }, 2.5),
  C("add", { a: true, b: true }, 2),
  C("add", { a: "1_000", b: 0 }, 1000),
  E("add", { a: null, b: 1 }, /not a number/),
  E("add", { a: "abc", b: 1 }, /not a number/),
  E("add", { a: [1], b: 1 }, /not a number/),
  C("subtract", { a: 5 }, 5, AB),
  C("subtract", { b: 3 }, -3, AB),
  C("multiply", { a: 4 }, 0, AB),
  C("multiply", { a: 2.5, b: 4 }, 10),
  C("divide", { a: 7 }, 7, AB),
  C("divide", {}, 0, AB),
  C("divide", { a: 1, b: 4 }, 0.25),
  E("divide", { a: 1, b: 0 }, /Division by zero/),
  C("modulo", { a: -7, b: 3 }, 2),
  C("modulo", { a: 7, b: -3 }, -2),
  C("modulo", { a: 7 }, 0, AB),
  C("modulo", { a: 5.5, b: 2 }, 1.5),
  E("modulo", { a: 1, b: 0 }, /Modulo by zero/),
  C("power", { base: 2 }, 2, { pins: ["base", "exp"] }),
  C("power", { exp: 2 }, 0, { pins: ["base", "exp"] }),
  C("power", { base: 2, exp: 10 }, 1024),
  C("power", { base: 4, exp: 0.5 }, 2),
  E("power", { base: 0, exp: -1 }, /negative power/),
  C("abs", {}, 0, { pins: ["value"] }),
  C("abs", { value: -3.5 }, 3.5),
  C("abs", { value: "-2" }, 2),
  // round: Python's round half to even on the exact binary value
  C("round", { value: 2.5 }, 2),
  C("round", { value: 3.5 }, 4),
  C("round", { value: -2.5 }, -2),
  C("round", { value: 0.5 }, 0),
  C("round", { value: 2.675, decimals: 2 }, 2.67),
  C("round", { value: 0.125, decimals: 2 }, 0.12),
  C("round", { value: 0.375, decimals: 2 }, 0.38),
  C("round", { value: 1.15, decimals: 1 }, 1.1),
  C("round", { value: 1234.5, decimals: -2 }, 1200),
  C("round", { value: "2.5" }, 2),
  C("round", { value: 1.25, decimals: "1" }, 1.2),
  C("round", {}, 0, { pins: ["value", "decimals"] }),
  // compare: Python ==, ordering errors read false, only an unset op defaults to ==
  C("compare", { a: 1, b: 1 }, true, ABC),
  C("compare", { a: true, b: 1 }, true),
  C("compare", { a: "1", b: 1 }, false),
  C("compare", { a: { x: [1, 2] }, b: { x: [1, 2.0] } }, true),
  C("compare", { a: null, b: null }, true),
  C("compare", { a: "b", b: "a", op: ">" }, true),
  C("compare", { a: "hello", b: 0, op: ">" }, false),
  C("compare", { a: null, b: 1, op: "<" }, false),
  C("compare", { a: 2, b: 3, op: "<=" }, true),
  C("compare", { a: true, b: 0, op: ">" }, true),
  C("compare", { a: [1, 2], b: [1, 3], op: "<" }, true),
  C("compare", { a: [1, 2], b: [1], op: ">=" }, true),
  E("compare", { a: 1, b: 2, op: "" }, /Unknown comparison operator|unknown compare operator/),
  E("compare", { a: 1, b: 2, op: "~" }, /unknown compare operator/),
  // not/and/or/coalesce: Python truthiness
  C("not", { value: [] }, true),
  C("not", {}, true, { pins: ["value"] }),
  C("and", { a: 1, b: "x" }, true),
  C("or", { a: 0, b: "" }, false),
  C("or", { a: {}, b: [0] }, true),
  C("coalesce", { b: null, c: 3 }, 3, ABC),
  C("coalesce", { a: 0, b: 1 }, 0),
  // strings
  C("concat", { a: "x", c: "z" }, "x z", ABC),
  C("concat", { a: "x", b: null, c: "z" }, "x  z"),
  C("concat", { a: 1, b: true, c: [1, "a"] }, "1 True [1, 'a']"),
  C("concat", { a: "x", b: "y" }, "x\ny", { data: { concatConfig: { separator: "\\n" } } }),
  C("concat", {}, "", ABC),
  C("join", { items: ["a", "b"] }, "a,b"),
  C("join", { items: ["a", null, 1], delimiter: "-" }, "a--1"),
  C("join", { items: "solo" }, "solo"),
  C("join", { items: null }, ""),
  C("join", { items: ["a", "b"], delimiter: null }, "aNoneb"),
  C("join", { items: ["a", "b"], delimiter: "\\n" }, "a\nb"),
  C("split", { text: "a, b,,c," }, ["a", "b", "c"]),
  C("split", { text: "a|b|c", delimiter: "|", maxsplit: 1 }, ["a", "b|c"]),
  C("split", { text: " a , b ", trim: false, drop_empty: false }, [" a ", " b "]),
  C("split", { text: "a,b", delimiter: "" }, ["a,b"]),
  C("uppercase", { text: null }, "NONE"),
  C("length", {}, 0, { pins: ["text"] }),
  C("length", { text: 12345 }, 5),
  C("is_empty_string", { text: " " }, false),
  C("is_empty_string", { text: null }, true),
  C("contains", { text: "hello", pattern: "ell" }, true),
  C("contains", { text: "hello", pattern: "" }, false),
  C("replace", { text: "a-b-c", pattern: "-", replacement: "+" }, "a+b+c"),
  C("replace", { text: "a-b-c", pattern: "-", replacement: "+", mode: "first" }, "a+b-c"),
  C("replace", { text: "a-b-c-d", pattern: "-", replacement: "+", mode: "2" }, "a+b+c-d"),
  C("substring", { text: "hello", start: 1, end: 3 }, "el"),
  C("substring", { text: "hello", start: -3 }, "llo"),
  C("trim", { text: "  x \n" }, "x"),
  // get_element: non-lists are empty, booleans index 0, floats truncate
  C("get_element", { array: [1, 2, 3], index: -1 }, 3),
  C("get_element", { array: "abc", index: 0 }, null),
  C("get_element", { array: "abc", index: 0 }, false, { pin: "found" }),
  C("get_element", { array: ["a", "b"], index: true }, "a"),
  C("get_element", { array: [1, 2], index: 1.9 }, 2),
  C("get_element", { array: [1, 2], index: "1" }, 2),
  C("get_element", { array: [1], index: 5, default: "d" }, "d"),
  C("get_element", { array: { a: 1 } }, false, { pin: "found", pins: ["array", "index"] }),
  // parse_json: strict, fences, first embedded object, Python literals, errors for missing text
  C("parse_json", { text: "{'continue': False}" }, { continue: false }),
  C("parse_json", { text: 'Sure! Here you go: {"a": [1, 2]} Hope it helps.' }, { a: [1, 2] }),
  C("parse_json", { text: 'text [x] then {"k": 1}' }, { k: 1 }),
  C("parse_json", { text: "```json\n[1, 2]\n```" }, [1, 2]),
  C("parse_json", { text: "42" }, { value: 42 }),
  C("parse_json", { text: "42", wrap_scalar: false }, 42),
  C("parse_json", { text: { a: 1 } }, { a: 1 }),
  C("parse_json", { text: "(1, 'a', None)" }, [1, "a", null]),
  C("parse_json", { text: true }, { value: true }),
  E("parse_json", {}, /non-empty 'text'/, { pins: ["text"] }),
  E("parse_json", { text: null }, /non-empty 'text'/),
  E("parse_json", { text: "  " }, /non-empty 'text'/),
  E("parse_json", { text: "nope" }, /Invalid JSON/),
  // break_object: JSON-ish strings parsed like parse_json (scalars as {value})
  C("break_object", { object: '{"a": {"b": 2}}' }, 2, { ...paths("a.b"), pins: ["object"] }),
  C("break_object", { object: "7" }, 7, paths("value")),
  C("break_object", { object: "plain words" }, null, paths("value")),
  C("break_object", { object: { items: [{ n: 1 }] } }, 1, paths("items.0.n")),
  C("break_object", { object: "{'x': True}" }, true, paths("x")),
  // arrays
  C("array_length", { array: "abc" }, 0),
  C("make_array", { a: 1, b: null, c: 0 }, [1, 0]),
  C("array_concat", { a: [1], b: 2, c: null }, [1, 2]),
];

function caseFlow(id: string, c: Case) {
  const given = Object.keys(c.in);
  const declared = c.pins ?? given;
  const pin = c.pin ?? "result";
  return visualFlow(id, [
    ["start", "on_flow_start", {
      inputs: [],
      outputs: [{ id: "exec-out", type: "execution" }, ...given.map((p) => ({ id: p, type: "any" }))],
    }],
    ["n", c.type, {
      inputs: declared.map((p) => ({ id: p, type: "any" })),
      outputs: [{ id: pin, type: "any" }],
      ...c.data,
    }],
    ["end", "on_flow_end", {
      inputs: [{ id: "exec-in", type: "execution" }, { id: "out", type: "any" }],
      outputs: [],
    }],
  ], [
    "start:exec-out->end:exec-in",
    ...given.map((p) => `start:${p}->n:${p}`),
    `n:${pin}->end:out`,
  ], "start");
}

Deno.test(`pure nodes: ${CASES.length} upstream edge cases through compiled flows`, async (t) => {
  assert.ok(CASES.length >= 80);
  const h = await openHarness();
  try {
    for (const [k, c] of CASES.entries()) {
      await t.step(`${c.type} ${JSON.stringify(c.in)}${c.pin ? ` .${c.pin}` : ""}`, async () => {
        const id = `case-${k}`;
        h.flows.set(id, caseFlow(id, c));
        const run = await drive(
          h,
          (await h.runtime.start({ workflowId: id, vars: structuredClone(c.in) })).run_id,
        );
        assert.equal(run.status, "completed", JSON.stringify(run.error));
        const out = run.output as JsonObject;
        if (c.error) {
          assert.equal(out.success, false, `expected an error, got ${JSON.stringify(out)}`);
          assert.match(String(out.error), c.error);
        } else {
          assert.equal(out.success, true, JSON.stringify(out));
          assert.deepEqual(out.out, c.want);
        }
      });
    }
  } finally {
    await h.close();
  }
});

Deno.test("on_flow_end without declared pins ends with everything it received, plus success", async () => {
  const h = await openHarness({
    flows: [visualFlow(
      "end-all",
      [
        ["start", "on_flow_start", {
          inputs: [],
          outputs: [{ id: "exec-out", type: "execution" }, { id: "x", type: "any" }, {
            id: "y",
            type: "any",
          }],
        }],
        ["end", "on_flow_end", { inputs: [{ id: "exec-in", type: "execution" }], outputs: [] }],
      ],
      ["start:exec-out->end:exec-in"],
      "start",
    )],
  });
  try {
    const run = await drive(
      h,
      (await h.runtime.start({ workflowId: "end-all", vars: { x: 1, y: "two" } })).run_id,
    );
    assert.deepEqual(run.output, { x: 1, y: "two", success: true });
  } finally {
    await h.close();
  }
});
