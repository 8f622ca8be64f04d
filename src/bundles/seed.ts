/**
 * A downloaded binary started in an empty directory has no ./bundles. The default bundles travel in its
 * code (src/bundles/defaults.gen.ts, written by bundles/build.ts) rather than in the compiled binary's
 * embedded file system, so they need no read permission, no unstable flag and no path of the build
 * machine; on first start they are written to ./bundles, where the operator can see, replace or remove
 * them and uploads land next to them. An existing flows dir, even an empty one, is never touched, and
 * a flows dir set by the operator is never seeded.
 */
import { join, resolve } from "node:path";
import { DEFAULT_BUNDLES } from "./defaults.gen.ts";

function decodeBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** Writes the default bundles into `flowsDir` when it is the default `./bundles` and does not exist. */
export async function seedDefaultBundles(flowsDir: string, cwd = Deno.cwd()): Promise<string[]> {
  if (resolve(flowsDir) !== resolve(cwd, "bundles")) return [];
  try {
    await Deno.lstat(flowsDir);
    return [];
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  await Deno.mkdir(flowsDir, { recursive: true });
  const written: string[] = [];
  for (const [name, base64] of DEFAULT_BUNDLES) {
    try {
      // createNew: a second process seeding at the same moment (split deployment) keeps the first copy.
      await Deno.writeFile(join(flowsDir, name), decodeBase64(base64), { createNew: true });
      written.push(name);
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    }
  }
  return written;
}
