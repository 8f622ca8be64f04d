/**
 * Outbound network is named by the operator: the runtime connects to the hosts of
 * ABSTRACTGATEWAY_OUTBOUND_HOSTS and of ABSTRACTGATEWAY_LLM_BASE_URL, and a workflow can never reach any
 * other — not an LLM base_url of its own, not a fetch_url target, not a redirect. Real loopback servers
 * on random ports; a port the operator did not name must receive no request at all.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/config.ts";
import { createLlmEffectHandlers } from "../../src/runtime/llm/mod.ts";
import type { WorkflowSpec } from "../../src/runtime/spec.ts";
import type { JsonObject } from "../../src/runtime/types.ts";
import {
  configOutboundPolicy,
  guardedFetch,
  outboundPolicy,
  OutboundRefusedError,
} from "../../src/security/outbound.ts";
import { startFakeLlm } from "../helpers/fake_llm.ts";
import { effectCtx, makeRun } from "../runtime/llm/support.ts";
import { drive, openHarness } from "../runtime/harness.ts";

Deno.test("outbound: entries match host, port, *.domain and IPv6; bad entries are a config error", () => {
  const p = outboundPolicy(["api.example.com", "llm.internal:8443", "*.openai.azure.com", "[::1]:9000"]);
  assert.ok(p.allows("api.example.com", 443) && p.allows("API.example.com", 8080));
  assert.ok(p.allows("llm.internal", 8443) && !p.allows("llm.internal", 443));
  assert.ok(p.allows("x.openai.azure.com", 443) && !p.allows("openai.azure.com", 443));
  assert.ok(p.allows("::1", 9000) && p.allows("[::1]", 9000) && !p.allows("::1", 9001));
  assert.ok(!p.allows("example.com", 443) && !p.allows("evil-api.example.com", 443));
  assert.equal(p.authorizeUrl("https://api.example.com/v1").host, "api.example.com");
  assert.throws(() => p.authorizeUrl("http://llm.internal/v1"), OutboundRefusedError);
  const fromUrl = outboundPolicy([], ["http://127.0.0.1:1234/v1"]);
  assert.ok(fromUrl.allows("127.0.0.1", 1234) && !fromUrl.allows("127.0.0.1", 1235));
  assert.ok(!outboundPolicy([]).allows("127.0.0.1", 80), "nothing is named by default");

  assert.deepEqual(loadConfig({ ABSTRACTGATEWAY_OUTBOUND_HOSTS: "a.example, b.example:1" }).outboundHosts, [
    "a.example",
    "b.example:1",
  ]);
  assert.deepEqual(loadConfig({}).outboundHosts, []);
  assert.throws(
    () => loadConfig({ ABSTRACTGATEWAY_OUTBOUND_HOSTS: "http://a.example/" }),
    /ABSTRACTGATEWAY_OUTBOUND_HOSTS="http:\/\/a\.example\/" is not valid/,
  );
});

/** An llm_call whose payload names its own endpoint, as a workflow may. */
function llmCallSpec(baseUrl: string): WorkflowSpec {
  return {
    workflow_id: "own-endpoint",
    entry_node: "call",
    nodes: {
      call: () => ({
        node_id: "call",
        effect: {
          type: "llm_call",
          payload: { prompt: "hi", model: "m", params: { base_url: baseUrl } },
          result_key: "answer",
        },
        next_node: "end",
      }),
      end: (run) => ({ node_id: "end", complete_output: { answer: run.vars.answer ?? null } }),
    },
  };
}

Deno.test("outbound: the provider and media endpoints the operator configured count as named", () => {
  const p = configOutboundPolicy(loadConfig({
    ABSTRACTGATEWAY_LLM_PROVIDERS: JSON.stringify({ ollama: { base_url: "http://10.1.2.3:11434/v1" } }),
    ABSTRACTGATEWAY_MEDIA_BASE_URL: "https://media.example/v1",
  }));
  assert.ok(p.allows("10.1.2.3", 11434) && p.allows("media.example", 443));
  assert.ok(!p.allows("10.1.2.3", 80) && !p.allows("other.example", 443));
});

Deno.test("outbound: a workflow's own LLM base_url to a port the operator did not name is refused", async () => {
  const named = await startFakeLlm();
  const other = await startFakeLlm();
  try {
    const specs = new Map([["own-endpoint", llmCallSpec(other.baseUrl)]]);
    const env = { ABSTRACTGATEWAY_LLM_BASE_URL: named.baseUrl, ABSTRACTGATEWAY_LLM_MAX_RETRIES: "2" };
    const h = await openHarness({ specs, env });
    try {
      const run = await drive(h, (await h.runtime.start({ workflowId: "own-endpoint", vars: {} })).run_id);
      assert.equal(run.status, "failed");
      const port = new URL(other.baseUrl).port;
      assert.match(
        run.error ?? "",
        new RegExp(`Cannot connect to 127\\.0\\.0\\.1:${port}: not a host named`),
      );
      assert.equal(other.requests.length, 0, "the unnamed port was never contacted");
      assert.equal(named.requests.length, 0);
    } finally {
      await h.close();
    }

    // Once the operator names it, the same workflow reaches it.
    const allowed = await openHarness({
      specs,
      env: { ...env, ABSTRACTGATEWAY_OUTBOUND_HOSTS: `127.0.0.1:${new URL(other.baseUrl).port}` },
    });
    try {
      const run = await drive(
        allowed,
        (await allowed.runtime.start({ workflowId: "own-endpoint", vars: {} })).run_id,
      );
      assert.equal(run.status, "completed", run.error ?? "");
      assert.equal(other.requests.length, 1);
    } finally {
      await allowed.close();
    }
  } finally {
    await named.close();
    await other.close();
  }
});

function pageServer(redirectTo?: string): Deno.HttpServer<Deno.NetAddr> & { hits: string[] } {
  const hits: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    hits.push(new URL(req.url).pathname);
    if (redirectTo && new URL(req.url).pathname === "/go") {
      return new Response(null, { status: 302, headers: { location: redirectTo } });
    }
    return new Response("<p>page</p>", { headers: { "content-type": "text/html" } });
  });
  return Object.assign(server, { hits });
}

Deno.test("outbound: fetch_url reaches a named port only, and a redirect cannot leave the named hosts", async () => {
  const unnamed = pageServer();
  const named = pageServer(`http://127.0.0.1:${unnamed.addr.port}/secret`);
  try {
    const handlers = createLlmEffectHandlers({
      timeoutS: 5,
      maxRetries: 0,
      toolMode: "local",
      toolContext: { allowPrivateNetwork: true },
      outbound: outboundPolicy([`127.0.0.1:${named.addr.port}`]),
    });
    const fetchUrl = (url: string) => ({ name: "fetch_url", arguments: { url } });
    const outcome = await handlers.tool_calls(effectCtx(makeRun(), {
      type: "tool_calls",
      payload: {
        tool_calls: [
          fetchUrl(`http://127.0.0.1:${named.addr.port}/page`),
          fetchUrl(`http://127.0.0.1:${unnamed.addr.port}/page`),
          fetchUrl(`http://127.0.0.1:${named.addr.port}/go`),
        ],
      },
      result_key: null,
    }));
    assert.equal(outcome.status, "completed");
    const [ok, direct, redirected] = (outcome as { result: JsonObject }).result.results as JsonObject[];
    assert.equal(ok.success, true, JSON.stringify(ok));
    assert.equal(direct.success, false);
    assert.match(String(direct.error), /not a host named by the operator/);
    assert.equal(redirected.success, false);
    assert.match(
      String(redirected.error),
      new RegExp(`Cannot connect to 127\\.0\\.0\\.1:${unnamed.addr.port}`),
    );
    assert.deepEqual(unnamed.hits, [], "the unnamed server saw no request");
    assert.deepEqual(named.hits, ["/page", "/go"]);
  } finally {
    await unnamed.shutdown();
    await named.shutdown();
  }
});

Deno.test("outbound: guardedFetch follows redirects between named hosts and keeps POST bodies on 307", async () => {
  const bodies: string[] = [];
  const target = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    bodies.push(`${req.method} ${await req.text()}`);
    return new Response("done");
  });
  const hop = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () =>
      new Response(null, { status: 307, headers: { location: `http://127.0.0.1:${target.addr.port}/x` } }),
  );
  try {
    const f = guardedFetch(outboundPolicy(["127.0.0.1"]));
    const res = await f(`http://127.0.0.1:${hop.addr.port}/`, { method: "POST", body: "payload" });
    assert.equal(await res.text(), "done");
    assert.deepEqual(bodies, ["POST payload"]);
  } finally {
    await target.shutdown();
    await hop.shutdown();
  }
});
