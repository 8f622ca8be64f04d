import assert from "node:assert/strict";
import { DeadlineQueue } from "../../src/security/deadline_queue.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("deadline queue: due entries fire in order, cancelled ones never, no timer outlives them", async () => {
  const q = new DeadlineQueue(30);
  const fired: string[] = [];
  const started = performance.now();
  const a = q.start(() => fired.push("a"));
  await sleep(5);
  q.start(() => fired.push("b"));
  q.start(() => fired.push("c")).cancel();
  while (fired.length < 2) await sleep(5);
  assert.ok(performance.now() - started >= 30);
  await sleep(40);
  assert.deepEqual(fired, ["a", "b"]);
  a.cancel(); // after firing: harmless
  // Cancelling every pending entry clears the timer (the ops sanitizer would report it otherwise).
  q.start(() => fired.push("d")).cancel();
  assert.deepEqual(fired, ["a", "b"]);
});
