/** The real entry point as a subprocess under the `gateway` permission set. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runGateway, startServe } from "../helpers/gateway_process.ts";
import { REPO_ROOT, sandboxTempDir } from "../helpers/paths.ts";

const BUNDLES = join(REPO_ROOT, "bundles");
const AUTH = { Authorization: "Bearer e2e-token-0123456789abcdef" };

Deno.test("serve: health is open, the API needs the token, SIGTERM exits 0", async () => {
  const data = await sandboxTempDir();
  try {
    const gw = await startServe({
      ABSTRACTGATEWAY_DATA_DIR: data,
      ABSTRACTGATEWAY_FLOWS_DIR: BUNDLES,
      ABSTRACTGATEWAY_AUTH_TOKEN: "e2e-token-0123456789abcdef",
    });
    try {
      const health = await fetch(`${gw.url}/api/health`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: "healthy", service: "abstractgateway" });

      const anon = await fetch(`${gw.url}/api/gateway/runs`);
      assert.equal(anon.status, 401);
      await anon.body?.cancel();

      const authed = await fetch(`${gw.url}/api/gateway/bundles`, { headers: AUTH });
      assert.equal(authed.status, 200);
      const bundles = await authed.json();
      assert.ok(bundles.items.length >= 1, "our shipped bundles are served by default");

      const metricsAnon = await fetch(`${gw.url}/metrics`);
      assert.equal(metricsAnon.status, 401, "metrics are protected like the API");
      await metricsAnon.body?.cancel();
      const metrics = await fetch(`${gw.url}/metrics`, { headers: AUTH });
      assert.equal(metrics.status, 200);
      const text = await metrics.text();
      assert.match(text, /^# TYPE gateway_http_requests_total counter$/m);
      assert.match(text, /^gateway_runs\{status="completed"\} \d+$/m);

      const status = await fetch(`${gw.url}/api/gateway/tooling/status`, { headers: AUTH });
      assert.equal((await status.json()).enabled, false, "operator tooling is off by default");
      const discovery = await fetch(`${gw.url}/api/gateway/discovery/capabilities`, { headers: AUTH });
      assert.equal(
        (await discovery.json()).capabilities.operator_tooling.enabled,
        false,
        "discovery says so",
      );
      const files = await fetch(`${gw.url}/api/gateway/files/list?path=.`, { headers: AUTH });
      assert.equal(files.status, 404);
      await files.body?.cancel();

      const audit = await fetch(`${gw.url}/api/gateway/audit/tail`, { headers: AUTH });
      assert.equal(audit.status, 200);
      assert.equal((await audit.json()).ok, true);
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  } finally {
    await Deno.remove(data, { recursive: true });
  }
});

Deno.test("serve without a token on loopback generates one, names its file, and it works", async () => {
  const data = await sandboxTempDir();
  try {
    const env = { ABSTRACTGATEWAY_DATA_DIR: data, ABSTRACTGATEWAY_FLOWS_DIR: BUNDLES };
    const first = await startServe(env);
    let token: string;
    try {
      // stdout is a pipe here (as under systemd): the file is named, the token is not printed.
      const file = join(data, "auth", "gateway-token");
      token = (await Deno.readTextFile(file)).trim();
      assert.ok(first.stdout().includes(file), first.stdout());
      assert.ok(!first.stdout().includes(token), "the token stays out of a non-terminal output");
      const res = await fetch(`${first.url}/api/gateway/runs`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 200);
      await res.body?.cancel();
    } finally {
      await first.stop();
    }
    const second = await startServe(env);
    try {
      assert.ok(!second.stdout().includes(token), "the stored token is not printed again");
      const res = await fetch(`${second.url}/api/gateway/runs`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 200, "the stored token is reused");
      await res.body?.cancel();
    } finally {
      await second.stop();
    }
  } finally {
    await Deno.remove(data, { recursive: true });
  }
});

Deno.test("serve refuses a non-loopback bind without a token (exit 2, clear message)", async () => {
  const data = await sandboxTempDir();
  try {
    const { code, stderr } = await runGateway(["serve", "--host", "0.0.0.0", "--port", "0"], {
      ABSTRACTGATEWAY_DATA_DIR: data,
      ABSTRACTGATEWAY_FLOWS_DIR: BUNDLES,
    });
    assert.equal(code, 2);
    assert.match(stderr, /Missing gateway auth token/);
  } finally {
    await Deno.remove(data, { recursive: true });
  }
});

Deno.test("SIGTERM ends open SSE streams of live runs and exits 0 promptly", async () => {
  const data = await sandboxTempDir();
  try {
    const gw = await startServe({
      ABSTRACTGATEWAY_DATA_DIR: data,
      ABSTRACTGATEWAY_FLOWS_DIR: BUNDLES,
      ABSTRACTGATEWAY_AUTH_TOKEN: "e2e-token-0123456789abcdef",
    });
    let stopped = false;
    try {
      const start = await fetch(`${gw.url}/api/gateway/runs/start`, {
        method: "POST",
        headers: { ...AUTH, "Content-Type": "application/json" },
        body: JSON.stringify({
          bundle_id: "approval",
          flow_id: "approve",
          input_data: { request: "deploy" },
        }),
      });
      const { run_id } = await start.json();
      const stream = await fetch(`${gw.url}/api/gateway/runs/${run_id}/ledger/stream?after=0`, {
        headers: AUTH,
      });
      assert.equal(stream.status, 200);
      const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
      let seen = "";
      while (!seen.includes("event: step")) seen += (await reader.read()).value ?? "";

      let timer: ReturnType<typeof setTimeout> | undefined;
      const tooSlow = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), 10_000));
      const code = await Promise.race([gw.stop(), tooSlow]);
      clearTimeout(timer);
      if (code === "timeout") {
        await gw.kill();
        await reader.cancel();
      }
      stopped = true;
      assert.equal(code, 0, "shutdown does not wait for the client to hang up");
      // The stream ended without `done`: the run is not terminal, the client resumes from its cursor.
      let rest = "";
      for (let r = await reader.read(); !r.done; r = await reader.read()) rest += r.value;
      assert.doesNotMatch(seen + rest, /event: done/);
    } finally {
      if (!stopped) await gw.stop();
    }
  } finally {
    await Deno.remove(data, { recursive: true });
  }
});
