/** Paths shared by tests. Subprocess gateways run under the `gateway` permission set, which only
 * allows ./data and ./bundles (relative to the repo root), so their data dirs live under ./data. */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT: string = fileURLToPath(new URL("../../", import.meta.url));
export const MAIN_TS: string = join(REPO_ROOT, "main.ts");
export const OUR_BUNDLES: string = join(REPO_ROOT, "bundles");

/** A fresh directory under <repo>/data/ (inside the permission set); remove it with `Deno.remove(dir, {recursive: true})`. */
export async function sandboxTempDir(prefix = "test-"): Promise<string> {
  const base = join(REPO_ROOT, "data");
  await Deno.mkdir(base, { recursive: true });
  return await Deno.makeTempDir({ dir: base, prefix });
}
