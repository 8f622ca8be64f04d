/** The in-process WakeBus: topic routing, `*`, `changed`, listener isolation, source lifecycle. */
import assert from "node:assert/strict";
import { InProcessWakeBus, WAKE_CHANGED, type WakeSource } from "../../src/store/wake.ts";

Deno.test("wake bus: routing, wildcard, changed, and a failing listener", async () => {
  const bus = new InProcessWakeBus();
  const got: string[] = [];
  bus.subscribe("ledger:a", (t) => got.push(`a:${t}`));
  bus.subscribe("*", (t) => got.push(`*:${t}`));
  bus.subscribe("commands", () => {
    throw new Error("listener bug");
  });
  const offB = bus.subscribe("ledger:b", (t) => got.push(`b:${t}`));
  bus.publish("ledger:a");
  bus.publish("commands");
  offB();
  offB(); // idempotent
  bus.publish("ledger:b");
  bus.publish(WAKE_CHANGED);
  assert.deepEqual(got, ["a:ledger:a", "*:ledger:a", "*:commands", "*:ledger:b", "a:changed", "*:changed"]);
  await bus.close();
  assert.throws(() => bus.subscribe("x", () => {}), /closed/);
});

Deno.test("wake bus: the cross-process source runs only while someone listens", async () => {
  let running = 0;
  let starts = 0;
  let emit: ((topic: string) => void) | null = null;
  const source: WakeSource = {
    start(publish) {
      running++;
      starts++;
      emit = publish;
      return () => {
        running--;
        return Promise.resolve();
      };
    },
  };
  const bus = new InProcessWakeBus(source);
  assert.equal(running, 0);
  const got: string[] = [];
  const off1 = bus.subscribe("runs", (t) => got.push(t));
  const off2 = bus.subscribe("*", (t) => got.push(t));
  assert.equal(running, 1);
  emit!("runs");
  assert.deepEqual(got, ["runs", "runs"]);
  off1();
  assert.equal(running, 1);
  off2();
  assert.equal(running, 0);
  bus.subscribe("runs", () => {});
  assert.equal(starts, 2);
  await bus.close();
  assert.equal(running, 0);
});

Deno.test("wake bus: a source that cannot start leaves in-process wake-ups working", async () => {
  const bus = new InProcessWakeBus({
    start() {
      throw new Deno.errors.NotCapable("no read access");
    },
  });
  const got: string[] = [];
  const off = bus.subscribe("runs", (t) => got.push(t));
  bus.publish("runs");
  assert.deepEqual(got, ["runs"]);
  off();
  await bus.close();
});
