/**
 * Split deployment as subprocesses: `serve --no-runner` is not ready until a `gateway runner` heartbeat
 * appears; the runner serves its own /metrics (the commands and ledger appends it does) and health.
 */
import assert from "node:assert/strict";
import { bundlesEnv, spawnGateway, startServe } from "../helpers/gateway_process.ts";
import { apiJson, eventually, waitRunStatus } from "../helpers/gateway_api.ts";
import { sandboxTempDir } from "../helpers/paths.ts";

const TOKEN = "split-runner-token-0123456789abcdef";
const AUTH = { Authorization: `Bearer ${TOKEN}` };

async function firstLine(stream: ReadableStream<Uint8Array>, pattern: RegExp): Promise<RegExpMatchArray> {
  let text = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    const m = text.match(pattern);
    if (m) return m;
  }
  throw new Error(`stream ended without ${pattern}: ${text}`);
}

Deno.test("split deployment: readiness follows the runner heartbeat; runner /metrics counts its work", async () => {
  const data = await sandboxTempDir("split-");
  const env = bundlesEnv(data, TOKEN);
  const api = await startServe({ ...env, NO_COLOR: "1", ABSTRACTGATEWAY_LOG_LEVEL: "info" }, [
    "--no-runner",
    "--log-format",
    "pretty",
  ]);
  const runner = spawnGateway(["runner", "--metrics-port", "0"], {
    ...env,
    ABSTRACTGATEWAY_LOG_LEVEL: "info",
  });
  const runnerLog = new Response(runner.stderr).text();
  try {
    const notReady = await fetch(`${api.url}/api/health/ready`);
    const body = await notReady.json();
    assert.equal(notReady.status, 503);
    assert.deepEqual(body.failing, ["runner"]);

    const [, runnerUrl] = await firstLine(runner.stdout, /runner metrics on (http:\/\/\S+)\/metrics/);
    await eventually(
      "API ready",
      () => fetch(`${api.url}/api/health/ready`).then((r) => r.json()),
      (r) => r.status === "ready",
    );
    const { run_id } = await apiJson(api.url, TOKEN, "/runs/start", { bundle_id: "hello" });
    await waitRunStatus(api.url, TOKEN, run_id, "completed");
    await apiJson(api.url, TOKEN, "/commands", { command_id: "split-1", run_id, type: "pause", payload: {} });
    await eventually(
      "pause applied",
      () => apiJson(api.url, TOKEN, "/commands/split-1"),
      (c) => c.status === "applied",
    );

    const anon = await fetch(`${runnerUrl}/metrics`);
    await anon.body?.cancel();
    assert.equal(anon.status, 401);
    // The outcome is readable once durable, a moment before the runner's complete() returns and counts it.
    const metrics = await eventually(
      "runner counted the command",
      () => fetch(`${runnerUrl}/metrics`, { headers: AUTH }).then((r) => r.text()),
      (text) => /^gateway_commands_total\{outcome="applied"\} 1$/m.test(text),
    );
    assert.match(metrics, /^gateway_ledger_appends_total [1-9]\d*$/m);
    const ready = await fetch(`${runnerUrl}/api/health/ready`);
    assert.equal(ready.status, 200, JSON.stringify(await ready.json()));
    const health = await (await fetch(`${runnerUrl}/api/health`)).json();
    assert.equal(health.role, "runner");
  } finally {
    runner.kill("SIGTERM");
    assert.equal((await runner.status).code, 0);
    assert.equal(await api.stop(), 0);
    // Off a terminal the runner logs JSON; the API was asked for pretty lines, without colour (NO_COLOR).
    const json = (await runnerLog).trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(json.some((l) => l.msg === "run completed" && l.workflow_id === "hello@1.0.0:hello"));
    assert.ok(json.some((l) => l.msg === "command applied" && l.command_id === "split-1"));
    assert.match(api.stderr(), /^\d\d:\d\d:\d\d\.\d{3} INFO {2}serve {3}listening url=http/m);
    assert.match(api.stderr(), / INFO {2}runtime run started run_id=\S+ workflow_id=hello@1.0.0:hello/);
    assert.ok(!api.stderr().includes("\x1b["), "no colour codes");
    await Deno.remove(data, { recursive: true });
  }
});
