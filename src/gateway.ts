/**
 * Composition root: opens the stores, the bundle host, the runtime and (optionally) the runner
 * for one data dir. `serve`, `runner` and the tests build a Gateway through this one function.
 */
import type { Config } from "./config/config.ts";
import type { BundleHost } from "./bundles/types.ts";
import type { Stores } from "./store/types.ts";
import { openStores } from "./store/open.ts";
import { openBundleHost } from "./bundles/host.ts";
import { WorkflowRuntime } from "./runtime/workflow_runtime.ts";
import { Runner } from "./runner/runner.ts";
import { createGatewayMetrics, type GatewayMetrics, runCounter } from "./metrics/gateway_metrics.ts";
import { instrumentStores } from "./metrics/store_hooks.ts";
import { BUNDLES_CHANGED } from "./store/wake.ts";
import { errorText, logger } from "./util/log.ts";

const log = logger("bundles");

export interface Gateway {
  readonly config: Config;
  readonly stores: Stores;
  readonly bundles: BundleHost;
  readonly runtime: WorkflowRuntime;
  /** Counters and gauges served at /metrics (ledger appends and command outcomes are counted by the stores). */
  readonly metrics: GatewayMetrics;
  /** The in-process runner, or null for `serve --no-runner`. */
  readonly runner: Runner | null;
  close(): Promise<void>;
}

/** `serving: false` (`gateway runner`): no HTTP API, so no wake-ups that only streams follow. */
export async function openGateway(
  config: Config,
  options: { runner: boolean; serving?: boolean },
): Promise<Gateway> {
  const rawStores = await openStores({
    backend: config.storeBackend,
    dataDir: config.dataDir,
    dbPath: config.dbPath,
    databaseUrl: config.databaseUrl,
    poolSize: config.dbPoolSize,
    wakeScope: options.serving === false ? "work" : "all",
  });
  const metrics = createGatewayMetrics({ countRuns: runCounter(rawStores.runs) });
  const stores = instrumentStores(rawStores, metrics);
  try {
    const bundles = await openBundleHost({
      flowsDir: config.flowsDir,
      dataDir: config.dataDir,
      maxBundleBytes: config.maxBundleBytes,
    });
    // Shared store: a bundle installed or removed through another node (same flows dir on shared
    // storage, see docs/operations.md) is loaded here as soon as that node announces it.
    if (stores.announce) {
      stores.wake.subscribe(BUNDLES_CHANGED, (topic) => {
        if (topic !== BUNDLES_CHANGED) return; // the safety poll's "changed" is not about bundles
        bundles.reload().catch((err) => log.warn("cannot reload bundles", { error: errorText(err) }));
      });
    }
    const runtime = new WorkflowRuntime({ stores, workflows: bundles, config });
    const runner = options.runner ? new Runner({ config, stores, runtime, bundles }) : null;
    await runner?.start();
    return {
      config,
      stores,
      bundles,
      runtime,
      metrics,
      runner,
      async close() {
        await runner?.stop();
        await stores.close();
      },
    };
  } catch (err) {
    await stores.close();
    throw err;
  }
}
