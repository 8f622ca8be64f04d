import assert from "node:assert/strict";
import fc from "fast-check";
import { globToRegExp, isPublicWildcard, originAllowed } from "../../src/security/glob.ts";

const DEFAULT = ["http://localhost:*", "http://127.0.0.1:*"];

Deno.test("default list: loopback http origins on any port only", () => {
  assert.ok(originAllowed("http://localhost:5173", DEFAULT));
  assert.ok(originAllowed("http://127.0.0.1:8080", DEFAULT));
  for (const bad of ["https://localhost:5173", "http://localhost", "null", "http://evil.example", ""]) {
    assert.equal(originAllowed(bad, DEFAULT), false, bad);
  }
  assert.equal(originAllowed("http://localhost:80/path", DEFAULT), false, "globs need a canonical origin");
  assert.equal(originAllowed("http://localhost:1@evil.example", DEFAULT), false);
});

Deno.test("glob semantics: * spans dots, slashes and colons; ? one char; classes; case-sensitive", () => {
  assert.ok(globToRegExp("https://*.example.com").test("https://a.b.example.com"));
  assert.ok(globToRegExp("a*z").test("a/b:c.z"));
  assert.ok(globToRegExp("h?t").test("hat"));
  assert.equal(globToRegExp("h?t").test("heat"), false);
  assert.ok(globToRegExp("v[0-9]").test("v7"));
  assert.equal(globToRegExp("v[!0-9]").test("v7"), false);
  assert.ok(globToRegExp("v[!0-9]").test("vx"));
  assert.ok(globToRegExp("a[]]b").test("a]b"));
  assert.ok(globToRegExp("a[b").test("a[b"), "an unclosed [ is literal");
  assert.ok(globToRegExp("a.b").test("a.b"));
  assert.equal(globToRegExp("a.b").test("axb"), false, "regex metacharacters are literal");
  assert.equal(globToRegExp("v[z-a]").test("vq"), false, "a bad range matches nothing instead of throwing");
  assert.equal(globToRegExp("HTTP://*").test("http://x"), false);
});

Deno.test("exact patterns compare as strings; * allows everything; empty list allows nothing", () => {
  assert.ok(originAllowed("null", ["null"]));
  assert.ok(originAllowed("https://app.example", ["https://app.example"]));
  assert.equal(originAllowed("https://app.example.evil", ["https://app.example"]), false);
  assert.ok(originAllowed("anything at all", ["*"]));
  assert.equal(originAllowed("http://localhost:1", []), false);
});

Deno.test("public wildcard detection", () => {
  assert.ok(isPublicWildcard("*"));
  assert.ok(isPublicWildcard("https://*.ngrok-free.app"));
  assert.ok(isPublicWildcard("https://*.example.com"));
  assert.equal(isPublicWildcard("http://localhost:*"), false);
  assert.equal(isPublicWildcard("http://127.0.0.1:*"), false);
  assert.equal(isPublicWildcard("https://app.example.com"), false);
});

Deno.test("property: exact patterns are string equality; `http://<host>:*` matches that host on any port", () => {
  const host = fc.stringMatching(/^[a-z]{1,10}(\.[a-z]{1,8}){0,2}$/);
  fc.assert(fc.property(host, host, fc.integer({ min: 1024, max: 65535 }), (a, b, port) => {
    const origin = `http://${b}:${port}`;
    assert.equal(originAllowed(origin, [`http://${a}:${port}`]), a === b);
    assert.equal(originAllowed(origin, [`http://${a}:*`]), a === b);
    assert.equal(originAllowed(`${origin}.evil.example`, [`http://${a}:*`]), false);
  }));
});
