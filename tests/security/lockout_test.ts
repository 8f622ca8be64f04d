import assert from "node:assert/strict";
import { isLoopbackAddress, Lockout } from "../../src/security/lockout.ts";

Deno.test("lock after N failures, exact Retry-After, success clears", () => {
  let now = 0;
  const l = new Lockout({ after: 3, baseS: 1.5, maxS: 60, windowS: 100, now: () => now });
  assert.equal(l.fail("a"), 0);
  assert.equal(l.fail("a"), 0);
  assert.equal(l.fail("a"), 2, "1.5 s rounds up");
  assert.equal(l.retryAfterS("a"), 2);
  now += 1400;
  assert.equal(l.retryAfterS("a"), 1, "0.1 s left still counts as a whole second");
  now += 100;
  assert.equal(l.retryAfterS("a"), 0);
  assert.equal(l.retryAfterS("b"), 0, "other addresses are unaffected");
  l.succeed("a");
  assert.equal(l.fail("a"), 0);
});

Deno.test("zero base or zero max means count but never lock", () => {
  const l = new Lockout({ after: 1, baseS: 0, maxS: 60, windowS: 100 });
  assert.equal(l.fail("a"), 0);
  assert.equal(l.retryAfterS("a"), 0);
});

Deno.test("the table is bounded, oldest entries forgotten first", () => {
  const l = new Lockout({ after: 1, baseS: 10, maxS: 60, windowS: 100, maxEntries: 3 });
  for (const ip of ["a", "b", "c", "d"]) l.fail(ip);
  assert.equal(l.size, 3);
  assert.equal(l.retryAfterS("a"), 0);
  assert.equal(l.retryAfterS("d"), 10);
});

Deno.test("loopback addresses", () => {
  for (const a of ["127.0.0.1", "127.3.4.5", "::1", "::ffff:127.0.0.1", "localhost"]) {
    assert.ok(isLoopbackAddress(a), a);
  }
  for (const a of ["10.0.0.1", "::2", "unknown", "127.0.0.1.evil", "0.0.0.0"]) {
    assert.equal(isLoopbackAddress(a), false, a);
  }
});
