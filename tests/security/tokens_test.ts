import assert from "node:assert/strict";
import {
  bearerToken,
  generateToken,
  tokenFingerprint,
  TokenVerifier,
  weakTokenReason,
} from "../../src/security/tokens.ts";

Deno.test("verifier accepts every configured token and nothing else", async () => {
  const v = new TokenVerifier(["alpha-token-000000000000000", "beta-token-1111111111111111"]);
  assert.equal(await v.verify("alpha-token-000000000000000"), true);
  assert.equal(await v.verify("beta-token-1111111111111111"), true);
  for (
    const bad of [
      "",
      "alpha",
      "alpha-token-0000000000000000",
      "ALPHA-TOKEN-000000000000000",
      "x".repeat(100_000),
    ]
  ) {
    assert.equal(await v.verify(bad), false, bad.slice(0, 40));
  }
  assert.equal(await new TokenVerifier([]).verify("anything"), false);
});

Deno.test("fingerprint is the first 12 hex of SHA-256, also from inspect()", async () => {
  // sha256("t") = e3b98a4d...
  assert.equal(await tokenFingerprint("t"), "e3b98a4da31a");
  const v = new TokenVerifier(["t"]);
  assert.deepEqual(await v.inspect("t"), { valid: true, fingerprint: "e3b98a4da31a" });
  assert.deepEqual(await v.inspect("u"), { valid: false, fingerprint: await tokenFingerprint("u") });
});

Deno.test("bearer header parsing", () => {
  assert.equal(bearerToken("Bearer abc"), "abc");
  assert.equal(bearerToken("bEaReR   abc  "), "abc");
  assert.equal(bearerToken("Basic abc"), null);
  assert.equal(bearerToken("Bearer "), null);
  assert.equal(bearerToken("Bearerabc"), null);
  assert.equal(bearerToken(undefined), null);
});

Deno.test("weak token rules", () => {
  assert.match(weakTokenReason("")!, /empty/);
  assert.match(weakTokenReason("t")!, /shorter than 24/);
  assert.match(weakTokenReason("Dev-Token")!, /well-known/);
  assert.match(weakTokenReason("changeme")!, /well-known/);
  assert.match(weakTokenReason("passwordpasswordpassword")!, /distinct/);
  assert.match(weakTokenReason("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")!, /distinct/);
  assert.equal(weakTokenReason("k3J9-xQ2p_Lm8vR4tY7wZ1aB"), null);
  assert.equal(weakTokenReason(generateToken()), null);
});

Deno.test("generated tokens: 43 base64url chars, unique", () => {
  const a = generateToken();
  const b = generateToken();
  assert.match(a, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, b);
});
