/**
 * Subprocess probe for host_permissions_test.ts: opens a bundle host on argv[0] (flows dir) and
 * argv[1] (data dir), installs the bundle file argv[2] and prints the outcome as one JSON line.
 */
import { openBundleHost } from "../../src/bundles/host.ts";
import { BundleError } from "../../src/bundles/types.ts";
import { setLogLevel } from "../../src/util/log.ts";

setLogLevel("none");
const [flowsDir, dataDir, bundlePath] = Deno.args;
const host = await openBundleHost({ flowsDir, dataDir, maxBundleBytes: 1 << 20 });
try {
  const installed = await host.install(await Deno.readFile(bundlePath), { overwrite: false });
  console.log(JSON.stringify({ ok: true, ref: installed.ref, loaded: host.list().map((b) => b.ref) }));
} catch (err) {
  const status = err instanceof BundleError ? err.status : null;
  console.log(
    JSON.stringify({ ok: false, name: (err as Error).name, status, message: (err as Error).message }),
  );
}
