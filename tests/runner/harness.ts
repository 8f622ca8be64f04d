/** A real runner stack (stores, bundle host, WorkflowRuntime with the test specs, Runner) on a data dir. */
import { join } from "node:path";
import { openBundleHost } from "../../src/bundles/host.ts";
import type { BundleHost } from "../../src/bundles/types.ts";
import { type Config, loadConfig } from "../../src/config/config.ts";
import { Runner } from "../../src/runner/runner.ts";
import { WorkflowRuntime } from "../../src/runtime/workflow_runtime.ts";
import type { CommandRecord, JsonObject, RunState } from "../../src/runtime/types.ts";
import { openStores } from "../../src/store/open.ts";
import type { CommandOutcome, StoreBackend, Stores } from "../../src/store/types.ts";
import { setLogLevel } from "../../src/util/log.ts";
import { TEST_EFFECTS, TEST_SPECS } from "./specs.ts";

export interface Harness {
  dir: string;
  config: Config;
  stores: Stores;
  bundles: BundleHost;
  runtime: WorkflowRuntime;
  runner: Runner;
  start(workflowId: string, vars?: JsonObject, sessionId?: string): Promise<RunState>;
  command(type: CommandRecord["type"], runId: string, payload?: JsonObject): Promise<string>;
  outcome(commandId: string, timeoutMs?: number): Promise<CommandOutcome>;
  waitFor(runId: string, test: (run: RunState) => boolean, timeoutMs?: number): Promise<RunState>;
  /** Stops the runner and closes the stores; keeps the dir (for restarts). */
  close(): Promise<void>;
  /** close() and remove the dir. */
  dispose(): Promise<void>;
}

export function testConfig(dir: string, backend: StoreBackend, env: Record<string, string> = {}): Config {
  return loadConfig({
    ABSTRACTGATEWAY_DATA_DIR: dir,
    ABSTRACTGATEWAY_FLOWS_DIR: join(dir, "flows"),
    ABSTRACTGATEWAY_STORE_BACKEND: backend,
    ABSTRACTGATEWAY_POLL_S: "0.05",
    ABSTRACTGATEWAY_LOG_LEVEL: "error",
    ...env,
  });
}

export async function openHarness(
  backend: StoreBackend,
  options: { dir?: string; startRunner?: boolean; env?: Record<string, string> } = {},
): Promise<Harness> {
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "runner-" });
  await Deno.mkdir(join(dir, "flows"), { recursive: true });
  const config = testConfig(dir, backend, options.env);
  setLogLevel(config.logLevel);
  const stores = await openStores({
    backend,
    dataDir: dir,
    dbPath: config.dbPath,
    databaseUrl: config.databaseUrl,
    poolSize: config.dbPoolSize,
  });
  const bundles = await openBundleHost({
    flowsDir: config.flowsDir,
    dataDir: dir,
    maxBundleBytes: config.maxBundleBytes,
  });
  const runtime = new WorkflowRuntime({
    stores,
    workflows: bundles,
    config,
    specs: TEST_SPECS,
    effectHandlers: TEST_EFFECTS,
  });
  const runner = new Runner({ config, stores, runtime, bundles });
  if (options.startRunner !== false) {
    await runner.start();
    await runner.ready;
  }
  const h: Harness = {
    dir,
    config,
    stores,
    bundles,
    runtime,
    runner,
    async start(workflowId, vars = {}, sessionId) {
      const run = await runtime.start({ workflowId, vars, sessionId });
      runner.kick();
      return run;
    },
    async command(type, runId, payload = {}) {
      const command_id = crypto.randomUUID();
      await stores.commands.append({
        command_id,
        run_id: runId,
        type,
        payload,
        ts: new Date().toISOString(),
        client_id: "test",
      });
      runner.kick();
      return command_id;
    },
    async outcome(commandId, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const o = await stores.commands.getOutcome(commandId);
        if (o) return o;
        if (Date.now() > deadline) throw new Error(`no outcome for command ${commandId} in ${timeoutMs} ms`);
        await sleep(10);
      }
    },
    async waitFor(runId, test, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const run = await stores.runs.load(runId);
        if (run && test(run)) return run;
        if (Date.now() > deadline) {
          throw new Error(
            `run ${runId} did not reach the expected state in ${timeoutMs} ms: ${JSON.stringify(run)}`,
          );
        }
        await sleep(10);
      }
    },
    async close() {
      await runner.stop();
      await stores.close();
    },
    async dispose() {
      await h.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
  return h;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
