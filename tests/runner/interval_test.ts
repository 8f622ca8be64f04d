import assert from "node:assert/strict";
import { intervalMs, isWholeUnitInterval, parseInterval } from "../../src/runner/interval.ts";

Deno.test("intervalMs: every unit, decimals, spacing and case", () => {
  assert.equal(intervalMs("100ms"), 100);
  assert.equal(intervalMs("0.1s"), 100);
  assert.equal(intervalMs("15m"), 900_000);
  assert.equal(intervalMs("1h"), 3_600_000);
  assert.equal(intervalMs("2d"), 172_800_000);
  assert.equal(intervalMs(" 30 S "), 30_000);
  assert.equal(intervalMs("1.5H"), 5_400_000);
});

Deno.test("intervalMs: rejects zero, negatives, unknown units and junk", () => {
  for (const bad of ["0s", "0ms", "-1s", "1w", "s", "", "1", "1 minute", "1e3s", "1h30m"]) {
    assert.equal(intervalMs(bad), null, bad);
  }
});

Deno.test("parseInterval: the error names the field and the accepted forms", () => {
  assert.throws(
    () => parseInterval("soon", "interval"),
    /interval must be a positive duration like 100ms.*"soon"/,
  );
  assert.equal(parseInterval("2s"), 2000);
});

Deno.test("isWholeUnitInterval: repeat_until needs whole s/m/h/d", () => {
  assert.equal(isWholeUnitInterval("30s"), true);
  assert.equal(isWholeUnitInterval("2 d"), true);
  assert.equal(isWholeUnitInterval("0.5s"), false);
  assert.equal(isWholeUnitInterval("100ms"), false);
});
