/**
 * Split deployment (scenario 39): `main.ts serve --no-runner` and `main.ts runner` as separate
 * processes on one data dir. A run started over HTTP completes, across an API crash; a second runner
 * waits on the lock without ticking; SIGTERM stops each runner with exit code 0.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { VisualFlow } from "../../src/bundles/types.ts";
import { LOCK_FILE } from "../../src/runner/lock.ts";
import { type GatewayProcess, startServe } from "../helpers/gateway_process.ts";
import { apiJson } from "../helpers/gateway_api.ts";
import { sandboxTempDir } from "../helpers/paths.ts";
import { makeBundle } from "../bundles/fixtures.ts";
import { type LineProcess, spawnRunner } from "./processes.ts";

const TOKEN = "split-e2e-token";

/** start → wait_until(0.8 s) → end */
function waitingFlow(): VisualFlow {
  const exec = (id: string) => ({ id, label: "", type: "execution" });
  return {
    id: "root",
    name: "root",
    entryNode: "start",
    nodes: [
      { id: "start", type: "on_flow_start", data: { outputs: [exec("exec-out")] } },
      {
        id: "wait",
        type: "wait_until",
        data: {
          inputs: [exec("exec-in"), { id: "duration", label: "duration", type: "number" }],
          outputs: [exec("exec-out")],
          pinDefaults: { duration: 0.8 },
          effectConfig: { durationType: "seconds" },
        },
      },
      { id: "end", type: "on_flow_end", data: { inputs: [exec("exec-in")] } },
    ],
    edges: [
      { id: "e1", source: "start", sourceHandle: "exec-out", target: "wait", targetHandle: "exec-in" },
      { id: "e2", source: "wait", sourceHandle: "exec-out", target: "end", targetHandle: "exec-in" },
    ],
  };
}

function startRunner(dir: string, flows: string): LineProcess {
  return spawnRunner(["--data-dir", dir, "--flows-dir", flows]);
}

const api = (gw: GatewayProcess, path: string, body?: unknown): Promise<Record<string, unknown>> =>
  apiJson(gw.url, TOKEN, path, body);

async function stopWithSigterm(p: LineProcess): Promise<{ code: number; ms: number }> {
  const start = Date.now();
  p.child.kill("SIGTERM");
  const { code } = await p.child.status;
  return { code, ms: Date.now() - start };
}

Deno.test("split deployment: API and runner in separate processes; second runner waits on the lock", async () => {
  const dir = await sandboxTempDir("runner-split-");
  const flows = join(dir, "flows");
  await Deno.mkdir(flows);
  await Deno.writeFile(
    join(flows, "demo@0.0.1.flow"),
    makeBundle({ id: "demo", version: "0.0.1", flows: { root: waitingFlow() } }),
  );
  const env = { ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN };
  const serveArgs = ["--no-runner", "--data-dir", dir, "--flows-dir", flows];
  const procs: LineProcess[] = [];
  let serve: GatewayProcess | null = null;
  try {
    const runner = startRunner(dir, flows);
    procs.push(runner);
    await runner.waitFor("runner lock acquired", 30_000);
    assert.ok((await Deno.stat(join(dir, LOCK_FILE))).isFile);

    serve = await startServe(env, serveArgs);
    const { run_id } = await api(serve, "/runs/start", {
      bundle_id: "demo",
      flow_id: "root",
      input_data: {},
    });
    assert.equal(typeof run_id, "string");
    await serve.kill();
    serve = await startServe(env, serveArgs);

    const deadline = Date.now() + 15_000;
    let run = await api(serve, `/runs/${run_id}`);
    while (run.status !== "completed") {
      assert.ok(Date.now() < deadline, `run not completed: ${JSON.stringify(run)}`);
      await new Promise((r) => setTimeout(r, 50));
      run = await api(serve, `/runs/${run_id}`);
    }
    assert.equal(run.error, null);

    const second = startRunner(dir, flows);
    procs.push(second);
    await second.waitFor("another runner holds the data-dir lock", 30_000);
    assert.ok(!second.lines.some((l) => l.includes("runner lock acquired")));

    const first = await stopWithSigterm(runner);
    assert.equal(first.code, 0);
    assert.ok(first.ms < 5_000, `runner took ${first.ms} ms to stop`);
    await second.waitFor("runner lock acquired", 5_000);
    const other = await stopWithSigterm(second);
    assert.equal(other.code, 0);
  } finally {
    if (serve) await serve.stop();
    for (const p of procs) await p.close();
    await Deno.remove(dir, { recursive: true });
  }
});
