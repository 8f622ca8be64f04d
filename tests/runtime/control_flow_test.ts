/** Control nodes on real stores: while with explicit re-entry, sequence, loop, for, switch, data errors. */
import assert from "node:assert/strict";
import type { JsonObject } from "../../src/runtime/types.ts";
import { drive, ledgerOf, openHarness, pins, visualFlow } from "./harness.ts";

const exec = (inputs: string[] = [], outputs: string[] = []) => pins(inputs, outputs);
const pure = (inputs: string[], outputs = ["result"], data: JsonObject = {}) => ({
  ...pins(inputs, outputs, false),
  ...data,
});
const start = (outputs: string[] = []) => ({
  inputs: [],
  outputs: [{ id: "exec-out", type: "execution" }, ...outputs.map((id) => ({ id, type: "any" }))],
});
const end = (inputs: string[]) => ({
  inputs: [{ id: "exec-in", type: "execution" }, ...inputs.map((id) => ({ id, type: "any" }))],
  outputs: [],
});
const loopNode = (inputs: string[], data: JsonObject = {}) => ({
  inputs: [{ id: "exec-in", type: "execution" }, ...inputs.map((id) => ({ id, type: "any" }))],
  outputs: [
    { id: "loop", type: "execution" },
    { id: "done", type: "execution" },
    { id: "item", type: "any" },
    { id: "index", type: "number" },
    { id: "i", type: "number" },
  ],
  ...data,
});

Deno.test("while + ask_user loop (basic-followup shape): explicit re-entry ends the loop on 'stop'", async () => {
  const flow = visualFlow("followup", [
    ["start", "on_flow_start", start()],
    ["init", "set_var", {
      ...exec(["name", "value"], ["value"]),
      pinDefaults: { name: "continue", value: true },
    }],
    ["loop", "while", loopNode(["condition"])],
    ["cont", "get_var", { ...pure(["name"], ["value"]), pinDefaults: { name: "continue" } }],
    ["ask", "ask_user", { ...exec(["prompt"], ["response"]), pinDefaults: { prompt: "Next?" } }],
    ["trim", "trim", pure(["text"])],
    ["low", "lowercase", pure(["text"])],
    ["split", "split", { ...pure(["text", "delimiter"]), pinDefaults: { delimiter: " " } }],
    ["first", "get_element", {
      ...pure(["array", "index", "default"], ["result", "found"]),
      pinDefaults: { index: 0, default: "stop" },
    }],
    ["isstop", "compare", { ...pure(["a", "b", "op"]), pinDefaults: { b: "stop", op: "==" } }],
    ["not", "not", pure(["value"])],
    ["setc", "set_var", { ...exec(["name", "value"], ["value"]), pinDefaults: { name: "continue" } }],
    ["if", "if", {
      inputs: [{ id: "exec-in", type: "execution" }, { id: "condition", type: "boolean" }],
      outputs: [{ id: "true", type: "execution" }, { id: "false", type: "execution" }],
    }],
    ["keep", "set_var", { ...exec(["name", "value"], ["value"]), pinDefaults: { name: "last" } }],
    ["last", "get_var", { ...pure(["name"], ["value"]), pinDefaults: { name: "last" } }],
    ["end", "on_flow_end", end(["response"])],
  ], [
    "start:exec-out->init:exec-in",
    "init:exec-out->loop:exec-in",
    "cont:value->loop:condition",
    "loop:loop->ask:exec-in",
    "ask:exec-out->setc:exec-in",
    "ask:response->trim:text",
    "trim:result->low:text",
    "low:result->split:text",
    "split:result->first:array",
    "first:result->isstop:a",
    "isstop:result->not:value",
    "not:result->setc:value",
    "setc:exec-out->if:exec-in",
    "cont:value->if:condition",
    "if:true->keep:exec-in",
    "ask:response->keep:value",
    "if:false->loop:exec-in",
    "loop:done->end:exec-in",
    "last:value->end:response",
  ]);
  const h = await openHarness({ flows: [flow] });
  try {
    const run = await h.runtime.start({ workflowId: "followup", vars: {} });
    let state = await drive(h, run.run_id);
    assert.equal(state.waiting?.wait_key, `user:${run.run_id}:ask`);
    await h.runtime.resume(run.run_id, { payload: { response: "  Hello World" }, maxSteps: 0 });
    state = await drive(h, run.run_id);
    assert.equal(state.status, "waiting", "second question asked after the branch returned to the while");
    await h.runtime.resume(run.run_id, { payload: { response: "STOP now" }, maxSteps: 0 });
    state = await drive(h, run.run_id);
    assert.equal(state.status, "completed");
    assert.deepEqual(state.output, { response: "  Hello World", success: true });
    const asks = (await ledgerOf(h, run.run_id)).filter((r) =>
      r.effect?.type === "ask_user" && r.status === "waiting"
    );
    assert.equal(asks.length, 2);
    assert.equal(asks[0].idempotency_key, asks[1].idempotency_key, "same payload, waits are never reused");
  } finally {
    await h.close();
  }
});

Deno.test("sequence runs then:N branches in order; an unconnected if branch returns to it", async () => {
  const flow = visualFlow("seq", [
    ["start", "on_flow_start", start(["x"])],
    ["seq", "sequence", {
      inputs: [{ id: "exec-in", type: "execution" }],
      outputs: [0, 1, 2].map((n) => ({ id: `then:${n}`, type: "execution" })),
    }],
    ["one", "answer_user", { ...exec(["message"]), pinDefaults: { message: "one" } }],
    ["gate", "if", {
      inputs: [{ id: "exec-in", type: "execution" }, { id: "condition", type: "boolean" }],
      outputs: [{ id: "true", type: "execution" }, { id: "false", type: "execution" }],
    }],
    ["never", "answer_user", { ...exec(["message"]), pinDefaults: { message: "never" } }],
    ["three", "answer_user", { ...exec(["message"]), pinDefaults: { message: "three" } }],
  ], [
    "start:exec-out->seq:exec-in",
    "seq:then:0->one:exec-in",
    "seq:then:1->gate:exec-in",
    "gate:true->never:exec-in",
    "seq:then:2->three:exec-in",
  ]);
  const h = await openHarness({ flows: [flow] });
  try {
    const run = await h.runtime.start({ workflowId: "seq", vars: { x: 1 } });
    const done = await drive(h, run.run_id);
    assert.equal(done.status, "completed");
    const said = (await ledgerOf(h, run.run_id))
      .filter((r) => r.effect?.type === "answer_user" && r.status === "completed")
      .map((r) => (r.result as JsonObject).message);
    assert.deepEqual(said, ["one", "three"]);
    assert.deepEqual(done.output, { success: true, result: { branch: "false", condition: false } });
  } finally {
    await h.close();
  }
});

Deno.test("loop (foreach) and for: bodies run per item, done continues, frames are cleared", async () => {
  const flow = visualFlow("loops", [
    ["start", "on_flow_start", start(["items"])],
    ["zero", "set_var", { ...exec(["name", "value"]), pinDefaults: { name: "total", value: 0 } }],
    ["each", "loop", loopNode(["items"])],
    ["keep", "set_var", { ...exec(["name", "value"]), pinDefaults: { name: "last" } }],
    ["range", "for", { ...loopNode(["start", "end", "step"]), pinDefaults: { start: 0, end: 4 } }],
    ["total", "get_var", { ...pure(["name"], ["value"]), pinDefaults: { name: "total" } }],
    ["sum", "add", pure(["a", "b"])],
    ["acc", "set_var", { ...exec(["name", "value"]), pinDefaults: { name: "total" } }],
    ["last", "get_var", { ...pure(["name"], ["value"]), pinDefaults: { name: "last" } }],
    ["end", "on_flow_end", end(["last", "total"])],
  ], [
    "start:exec-out->zero:exec-in",
    "zero:exec-out->each:exec-in",
    "start:items->each:items",
    "each:loop->keep:exec-in",
    "each:item->keep:value",
    "each:done->range:exec-in",
    "range:loop->acc:exec-in",
    "total:value->sum:a",
    "range:i->sum:b",
    "sum:result->acc:value",
    "range:done->end:exec-in",
    "last:value->end:last",
    "total:value->end:total",
  ]);
  const h = await openHarness({ flows: [flow] });
  try {
    const run = await h.runtime.start({ workflowId: "loops", vars: { items: ["a", "b", "c"] } });
    const done = await drive(h, run.run_id);
    assert.equal(done.status, "completed", JSON.stringify(done.output));
    assert.deepEqual(done.output, { last: "c", total: 6, success: true });
    assert.deepEqual((done.vars._temp as JsonObject)._control, { stack: [], frames: {} });
  } finally {
    await h.close();
  }
});

Deno.test("switch routes on str(value); a visual data error completes the run with success:false", async () => {
  const flow = visualFlow("sw", [
    ["start", "on_flow_start", start(["mode"])],
    ["sw", "switch", {
      inputs: [{ id: "exec-in", type: "execution" }, { id: "value", type: "any" }],
      outputs: [{ id: "case:a", type: "execution" }, { id: "default", type: "execution" }],
      switchConfig: { cases: [{ id: "a", value: "2" }] },
    }],
    ["good", "on_flow_end", { ...end(["picked"]), pinDefaults: { picked: "two" } }],
    ["bad", "set_var", { ...exec(["name", "value"]), pinDefaults: { name: "_secret", value: 1 } }],
  ], [
    "start:exec-out->sw:exec-in",
    "start:mode->sw:value",
    "sw:case:a->good:exec-in",
    "sw:default->bad:exec-in",
  ]);
  const h = await openHarness({ flows: [flow] });
  try {
    const two = await drive(h, (await h.runtime.start({ workflowId: "sw", vars: { mode: 2 } })).run_id);
    assert.deepEqual(two.output, { picked: "two", success: true });
    const other = await drive(h, (await h.runtime.start({ workflowId: "sw", vars: { mode: 3 } })).run_id);
    assert.equal(other.status, "completed");
    assert.deepEqual(other.output, {
      error: "set_var 'bad': variable '_secret' is reserved",
      success: false,
      node: "bad",
    });
    assert.equal(other.vars._flow_error_node, "bad");
  } finally {
    await h.close();
  }
});

Deno.test("a node with two exec entries is lowered through a join that records the route taken", async () => {
  const flow = visualFlow("join", [
    ["start", "on_flow_start", start(["flag"])],
    ["gate", "if", {
      inputs: [{ id: "exec-in", type: "execution" }, { id: "condition", type: "boolean" }],
      outputs: [{ id: "true", type: "execution" }, { id: "false", type: "execution" }],
    }],
    ["a", "set_var", { ...exec(["name", "value"]), pinDefaults: { name: "via", value: "a" } }],
    ["b", "set_var", { ...exec(["name", "value"]), pinDefaults: { name: "via", value: "b" } }],
    ["via", "get_var", { ...pure(["name"], ["value"]), pinDefaults: { name: "via" } }],
    ["end", "on_flow_end", end(["via"])],
  ], [
    "start:exec-out->gate:exec-in",
    "start:flag->gate:condition",
    "gate:true->a:exec-in",
    "gate:false->b:exec-in",
    "a:exec-out->end:exec-in",
    "b:exec-out->end:exec-in",
    "via:value->end:via",
  ]);
  const h = await openHarness({ flows: [flow] });
  try {
    for (const [flag, via, which] of [[true, "a", 0], [false, "b", 1]] as const) {
      const done = await drive(h, (await h.runtime.start({ workflowId: "join", vars: { flag } })).run_id);
      assert.deepEqual(done.output, { via, success: true });
      const join = ((done.vars._temp as JsonObject).node_outputs as JsonObject).__internal_join_exec__end;
      assert.deepEqual(join, { which, from: via, from_handle: "exec-out" });
    }
  } finally {
    await h.close();
  }
});
