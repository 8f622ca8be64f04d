/** Before `serve` or `runner` opens anything: check every configured path, then seed ./bundles if missing. */
import { seedDefaultBundles } from "../bundles/seed.ts";
import type { Config } from "../config/config.ts";
import { checkServePaths } from "../security/preflight.ts";
import type { logger } from "../util/log.ts";

export async function prepareDataPaths(config: Config, log: ReturnType<typeof logger>): Promise<void> {
  await checkServePaths(config);
  const seeded = await seedDefaultBundles(config.flowsDir);
  if (seeded.length) log.info("seeded default bundles", { flows_dir: config.flowsDir, bundles: seeded });
}
