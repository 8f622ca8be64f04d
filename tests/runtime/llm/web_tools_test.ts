/** fetch_url / web_search against a loopback page server (private addresses need an explicit opt-in). */
import assert from "node:assert/strict";
import { createLlmEffectHandlers } from "../../../src/runtime/llm/mod.ts";
import type { JsonObject } from "../../../src/runtime/types.ts";
import { effectCtx, makeRun } from "./support.ts";

const SEARCH_PAGE = `<html><body>
<div class="result"><a rel="nofollow" class="result__a" href="//duckduckgo.com/l/?uddg=https%3A%2F%2Fdeno.com%2F&amp;rut=x">Deno &amp; friends</a>
<a class="result__snippet" href="#">A <b>modern</b> runtime</a></div>
<div class="result"><a class="result__a" href="https://example.org/">Second</a>
<a class="result__snippet" href="#">More</a></div></body></html>`;

function pages(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/page") {
      return new Response("<html><script>x()</script><h1>Title</h1><p>Hello &lt;world&gt;</p></html>", {
        headers: { "content-type": "text/html" },
      });
    }
    if (url.pathname === "/search") {
      return new Response(SEARCH_PAGE, { headers: { "content-type": "text/html" } });
    }
    return new Response("gone", { status: 404 });
  });
}

async function call(
  calls: JsonObject[],
  allowPrivateNetwork: boolean,
  webSearchUrl?: string,
): Promise<JsonObject[]> {
  const handlers = createLlmEffectHandlers({
    timeoutS: 5,
    maxRetries: 0,
    toolMode: "approval",
    toolContext: { allowPrivateNetwork, webSearchUrl },
  });
  const outcome = await handlers.tool_calls(
    effectCtx(makeRun(), { type: "tool_calls", payload: { tool_calls: calls }, result_key: null }),
  );
  assert.equal(outcome.status, "completed");
  return ((outcome as { result: JsonObject }).result.results) as JsonObject[];
}

Deno.test("fetch_url returns page text; HTTP errors and private addresses are tool errors", async () => {
  const server = pages();
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    const [page, missing] = await call([
      { name: "fetch_url", arguments: { url: `${base}/page` } },
      { name: "fetch_url", arguments: { url: `${base}/nope` } },
    ], true);
    assert.equal(page.success, true);
    assert.match(String(page.output), /Status: 200/);
    assert.match(String(page.output), /Title[\s\S]*Hello <world>/);
    assert.doesNotMatch(String(page.output), /x\(\)/);
    assert.equal(missing.success, false);
    assert.match(String(missing.error), /^HTTP 404/);
    const [refused, bad] = await call([
      { name: "fetch_url", arguments: { url: `${base}/page` } },
      { name: "fetch_url", arguments: { url: "file:///etc/passwd" } },
    ], false);
    assert.equal(refused.error, "Refusing to fetch a loopback or private-network address: 127.0.0.1");
    assert.equal(bad.error, "Only http(s) URLs can be fetched: file:///etc/passwd");
  } finally {
    await server.shutdown();
  }
});

Deno.test("web_search parses result titles, links and snippets", async () => {
  const server = pages();
  try {
    const [found] = await call(
      [{ name: "web_search", arguments: { query: "deno runtime", num_results: 2 } }],
      true,
      `http://127.0.0.1:${server.addr.port}/search`,
    );
    assert.equal(found.success, true, String(found.error));
    assert.equal(
      found.output,
      'Results for "deno runtime":\n1. Deno & friends\n   https://deno.com/\n   A modern runtime\n2. Second\n   https://example.org/\n   More',
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("fetch_url refuses IPv6 literals that embed a loopback or private IPv4 address (SSRF)", async () => {
  const hosts = [
    "[::ffff:127.0.0.1]",
    "[::ffff:10.0.0.1]",
    "[::ffff:7f00:1]",
    "[::ffff:192.168.1.20]",
    "[::127.0.0.1]",
    "[64:ff9b::a9fe:a9fe]",
    "[0:0:0:0:0:ffff:172.16.0.1]",
  ];
  const results = await call(
    hosts.map((h, i) => ({ id: `c${i}`, name: "fetch_url", arguments: { url: `http://${h}:9/` } })),
    false,
  );
  for (const [i, r] of results.entries()) {
    assert.equal(r.success, false, hosts[i]);
    assert.match(String(r.error), /Refusing to fetch a loopback or private-network address/, hosts[i]);
  }
  // A public address embedded the same way is not refused as private (it fails later, offline).
  const [pub] = await call(
    [{ id: "p", name: "fetch_url", arguments: { url: "http://[::ffff:8.8.8.8]:9/" } }],
    false,
  );
  assert.doesNotMatch(String(pub.error), /Refusing/);
});
