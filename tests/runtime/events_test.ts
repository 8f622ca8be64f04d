/** Events: On Event listener children, internal EMIT_EVENT (exact + `*`), external emitEvent, wait_until. */
import assert from "node:assert/strict";
import type { JsonObject } from "../../src/runtime/types.ts";
import { drive, ledgerOf, openHarness, pins, visualFlow } from "./harness.ts";

const start = () => ({ inputs: [], outputs: [{ id: "exec-out", type: "execution" }] });
const onEvent = (name: string) => ({
  inputs: [],
  outputs: [{ id: "exec-out", type: "execution" }, { id: "payload", type: "object" }, {
    id: "name",
    type: "string",
  }],
  eventConfig: { name, scope: "session" },
});

function listenerFlow() {
  return visualFlow("listen", [
    ["start", "on_flow_start", start()],
    ["ask", "ask_user", pins(["prompt"], ["response"])],
    ["ev", "on_event", onEvent("ping")],
    ["say", "answer_user", pins(["message"], ["message"])],
    ["any", "on_event", onEvent("")],
    ["note", "answer_user", pins(["message"], ["message"])],
  ], [
    "start:exec-out->ask:exec-in",
    "ev:exec-out->say:exec-in",
    "ev:name->say:message",
    "any:exec-out->note:exec-in",
    "any:name->note:message",
  ]);
}

function emitterFlow() {
  return visualFlow("emit", [
    ["start", "on_flow_start", start()],
    ["emit", "emit_event", {
      ...pins(["name", "scope", "payload"], ["delivered"]),
      pinDefaults: { name: "ping", payload: 5 },
    }],
  ], ["start:exec-out->emit:exec-in"]);
}

Deno.test("On Event listeners start as children, wait on evt keys, re-listen after each event", async () => {
  const h = await openHarness({ flows: [listenerFlow(), emitterFlow()] });
  try {
    const root = await h.runtime.start({ workflowId: "listen", vars: { topic: "t" }, sessionId: "s1" });
    const listeners = await h.stores.runs.listChildren(root.run_id);
    assert.equal(listeners.length, 2);
    const keys = listeners.map((l) => l.waiting?.wait_key).sort();
    assert.deepEqual(keys, ["evt:session:s1:*", "evt:session:s1:ping"]);
    assert.ok(
      listeners.every((l) => l.status === "waiting" && l.session_id === "s1" && l.vars.topic === "t"),
    );
    assert.ok(listeners.every((l) => l.workflow_id.startsWith("visual_event_listener_listen_")));

    const external = await h.runtime.emitEvent({
      name: "ping",
      scope: "session",
      sessionId: "s1",
      payload: { x: 1 },
    });
    assert.equal(external.wait_key, "evt:session:s1:ping");
    assert.equal(external.delivered, 1, "the external path has no wildcard");
    assert.deepEqual(external.errors, []);
    const exact = listeners.find((l) => l.waiting?.wait_key === "evt:session:s1:ping")!;
    const envelope = (await h.stores.runs.load(exact.run_id))!.vars._temp as JsonObject;
    const got = (envelope.effects as JsonObject).ev as JsonObject;
    assert.deepEqual(got.payload, { x: 1 });
    assert.deepEqual(got.emitter, { source: "external", client_id: null });
    assert.equal((await drive(h, exact.run_id)).status, "waiting");
    const said = (await ledgerOf(h, exact.run_id)).filter((r) =>
      r.effect?.type === "answer_user" && r.status === "completed"
    );
    assert.deepEqual(said.map((r) => (r.result as JsonObject).message), ["ping"]);

    const emitter = await h.runtime.start({ workflowId: "emit", vars: {}, sessionId: "s1" });
    const done = await drive(h, emitter.run_id);
    assert.equal(done.status, "completed");
    const result = (done.output as JsonObject).result as JsonObject;
    assert.equal(result.wait_key, "evt:session:s1:ping");
    assert.equal(result.delivered, 2, "internal emit reaches the exact and the * listener");
    for (const l of listeners) assert.equal((await drive(h, l.run_id)).status, "waiting");
    const notes = (await ledgerOf(h, listeners.find((l) => l.waiting?.wait_key?.endsWith(":*"))!.run_id))
      .filter((r) => r.effect?.type === "answer_user" && r.status === "completed");
    assert.deepEqual(notes.map((r) => (r.result as JsonObject).message), ["ping"]);
  } finally {
    await h.close();
  }
});

Deno.test("emitEvent skips paused listeners and reports bad scopes clearly", async () => {
  const h = await openHarness({ flows: [listenerFlow()] });
  try {
    const root = await h.runtime.start({ workflowId: "listen", vars: {}, sessionId: "s2" });
    for (const l of await h.stores.runs.listChildren(root.run_id)) await h.runtime.pause(l.run_id);
    const d = await h.runtime.emitEvent({ name: "ping", sessionId: "s2", payload: {} });
    assert.equal(d.delivered, 0);
    await assert.rejects(
      h.runtime.emitEvent({ name: "ping", scope: "galaxy" as "global", payload: {} }),
      /unknown event scope/,
    );
  } finally {
    await h.close();
  }
});

Deno.test("wait_until: waiting(until) until due, then tick continues; until in the past completes at once", async () => {
  const flow = visualFlow("nap", [
    ["start", "on_flow_start", start()],
    ["nap", "wait_until", { ...pins(["duration"], []), pinDefaults: { duration: 0.3 } }],
    ["say", "answer_user", { ...pins(["message"], ["message"]), pinDefaults: { message: "awake" } }],
  ], ["start:exec-out->nap:exec-in", "nap:exec-out->say:exec-in"]);
  const h = await openHarness({ flows: [flow] });
  try {
    const run = await h.runtime.start({ workflowId: "nap", vars: {} });
    const waiting = await h.runtime.tick(run.run_id);
    assert.equal(waiting.waiting?.reason, "until");
    assert.match(waiting.waiting!.until!, /\+00:00$/);
    assert.equal(await h.stores.runs.nextWaitUntil(), waiting.waiting!.until);
    assert.equal((await h.runtime.tick(run.run_id)).status, "waiting");
    await new Promise((r) => setTimeout(r, 350));
    const done = await h.runtime.tick(run.run_id);
    assert.equal(done.status, "completed");
    assert.deepEqual(done.output, { success: true, result: { message: "awake", level: "message" } });

    h.flows.set("nap0", {
      ...flow,
      id: "nap0",
      nodes: flow.nodes.map((n) =>
        n.id === "nap" ? { ...n, data: { ...n.data, pinDefaults: { duration: 0 } } } : n
      ),
    });
    const now = await h.runtime.tick((await h.runtime.start({ workflowId: "nap0", vars: {} })).run_id);
    assert.equal(now.status, "completed");
    assert.equal(
      ((now.vars._temp as JsonObject).effects as JsonObject as { nap: JsonObject }).nap.ready,
      true,
    );
  } finally {
    await h.close();
  }
});

Deno.test("on_schedule (recurrent interval) loops its branch; wait_event waits on its key and maps event_data", async () => {
  const flow = visualFlow("sched", [
    ["tick", "on_schedule", {
      inputs: [],
      outputs: [{ id: "exec-out", type: "execution" }, { id: "timestamp", type: "string" }],
      eventConfig: { schedule: "100ms" },
    }],
    ["count", "get_var", { ...pins(["name"], ["value"], false), pinDefaults: { name: "n" } }],
    ["inc", "add", { ...pins(["a", "b"], ["result"], false), pinDefaults: { b: 1 } }],
    ["set", "set_var", { ...pins(["name", "value"], ["value"]), pinDefaults: { name: "n" } }],
    ["enough", "compare", { ...pins(["a", "b", "op"], ["result"], false), pinDefaults: { b: 2, op: ">=" } }],
    ["gate", "if", {
      inputs: [{ id: "exec-in", type: "execution" }, { id: "condition", type: "boolean" }],
      outputs: [{ id: "true", type: "execution" }, { id: "false", type: "execution" }],
    }],
    ["hold", "wait_event", { ...pins(["event_key"], ["event_data"]), pinDefaults: { event_key: "go" } }],
    ["end", "on_flow_end", {
      inputs: [{ id: "exec-in", type: "execution" }, { id: "data", type: "any" }],
      outputs: [],
    }],
  ], [
    "tick:exec-out->set:exec-in",
    "count:value->inc:a",
    "inc:result->set:value",
    "set:exec-out->gate:exec-in",
    "count:value->enough:a",
    "enough:result->gate:condition",
    "gate:true->hold:exec-in",
    "hold:exec-out->end:exec-in",
    "hold:event_data->end:data",
  ]);
  const h = await openHarness({ flows: [flow] });
  try {
    const run = await h.runtime.start({ workflowId: "sched", vars: { n: 0 } });
    let state = await h.runtime.tick(run.run_id);
    for (let i = 0; i < 50 && state.waiting?.reason === "until"; i++) {
      await new Promise((r) => setTimeout(r, 60));
      state = await h.runtime.tick(run.run_id);
    }
    assert.equal(state.vars.n, 2, "the schedule fired twice before the gate opened");
    assert.equal(state.waiting?.reason, "event");
    assert.equal(state.waiting?.wait_key, "go");
    const done = await h.runtime.resume(run.run_id, { waitKey: "go", payload: { ok: true } });
    assert.equal(done.status, "completed");
    assert.deepEqual(done.output, { data: { ok: true }, success: true });
  } finally {
    await h.close();
  }
});
