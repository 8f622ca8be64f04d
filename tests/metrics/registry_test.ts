import assert from "node:assert/strict";
import { Registry } from "../../src/metrics/registry.ts";
import { parseExposition } from "./exposition.ts";

Deno.test("registry: every line is valid exposition format with HELP/TYPE and escaped labels", async () => {
  const reg = new Registry();
  const c = reg.counter("demo_total", 'A counter\\with "odd" help\nover lines.', ["path"]);
  c.inc({ path: 'a"b\\c\nd' }, 2);
  c.inc({ path: "plain" });
  reg.gauge("demo_gauge", "A gauge.").set({}, -1.5);
  reg.counter("demo_idle_total", "Never incremented.");
  const text = await reg.render();
  const { types, samples } = parseExposition(text);
  assert.deepEqual([...types], [["demo_total", "counter"], ["demo_gauge", "gauge"], [
    "demo_idle_total",
    "counter",
  ]]);
  assert.match(text, /^# HELP demo_total A counter\\\\with "odd" help\\nover lines\.$/m);
  assert.deepEqual(samples, [
    { name: "demo_total", labels: { path: 'a"b\\c\nd' }, value: 2 },
    { name: "demo_total", labels: { path: "plain" }, value: 1 },
    { name: "demo_gauge", labels: {}, value: -1.5 },
    { name: "demo_idle_total", labels: {}, value: 0 },
  ]);
});

Deno.test("registry: histogram buckets are cumulative and end with +Inf = count", async () => {
  const reg = new Registry();
  const h = reg.histogram("lat_seconds", "Latency.", ["route"], [0.1, 0.5, 1]);
  for (const v of [0.05, 0.1, 0.3, 0.7, 0.9, 5]) h.observe({ route: "/a" }, v);
  h.observe({ route: "/b" }, 0.2);
  const { samples } = parseExposition(await reg.render());
  const bucketsA = samples.filter((s) => s.name === "lat_seconds_bucket" && s.labels.route === "/a");
  assert.deepEqual(bucketsA.map((s) => [s.labels.le, s.value]), [["0.1", 2], ["0.5", 3], ["1", 5], [
    "+Inf",
    6,
  ]]);
  for (let i = 1; i < bucketsA.length; i++) assert.ok(bucketsA[i].value >= bucketsA[i - 1].value);
  const get = (name: string, route: string) =>
    samples.find((s) => s.name === name && s.labels.route === route)!.value;
  assert.equal(get("lat_seconds_count", "/a"), 6);
  assert.ok(Math.abs(get("lat_seconds_sum", "/a") - 7.05) < 1e-9);
  assert.equal(get("lat_seconds_count", "/b"), 1);
});

Deno.test("registry: misuse is refused loudly", () => {
  const reg = new Registry();
  const c = reg.counter("x_total", "x", ["a"]);
  assert.throws(() => c.inc({ b: "1" }), /takes labels \{a\}/);
  assert.throws(() => c.inc({ a: "1" }, -1), /only goes up/);
  assert.throws(() => reg.counter("x_total", "again"), /registered twice/);
  assert.throws(() => reg.gauge("bad-name", "x"), /invalid metric name/);
  assert.throws(() => reg.histogram("h", "x", ["le"]), /invalid label name/);
  assert.equal(c.get({ a: "never" }), 0);
});

Deno.test("registry: gauge collectors run on every render", async () => {
  const reg = new Registry();
  let n = 0;
  reg.gauge("scrapes", "Times collected.", [], (g) => g.set({}, ++n));
  await reg.render();
  const { samples } = parseExposition(await reg.render());
  assert.deepEqual(samples, [{ name: "scrapes", labels: {}, value: 2 }]);
});
