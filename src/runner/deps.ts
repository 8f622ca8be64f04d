/** What the runner parts are built from (the composition root passes these in). */
import type { Config } from "../config/config.ts";
import type { BundleHost } from "../bundles/types.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { Stores } from "../store/types.ts";

export interface RunnerDeps {
  config: Config;
  stores: Stores;
  runtime: Runtime;
  bundles: BundleHost;
}
