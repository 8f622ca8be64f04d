/**
 * Builds our example bundles: zips each `bundles/src/<name>/` (manifest.json, flows/*.json,
 * optional assets/*) into `bundles/<bundle_id>@<bundle_version>.flow`.
 * Deterministic: entries in a fixed order with a fixed timestamp, so rebuilding gives identical
 * bytes. Every bundle is validated with the gateway's own reader before it is written.
 *
 *   deno run -A bundles/build.ts           # write the .flow files
 *   deno run -A bundles/build.ts --check   # exit 1 when a committed .flow differs from its source
 */
import { zipSync } from "fflate";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { readFlowBundle } from "../src/bundles/reader.ts";

export const BUNDLES_DIR = fileURLToPath(new URL(".", import.meta.url));
export const SOURCES_DIR = join(BUNDLES_DIR, "src");

/** Local-time fields are what zip stores, so a local Date gives the same bytes in every timezone. */
const FIXED_MTIME = new Date(2026, 0, 1, 0, 0, 0);

export interface BuiltBundle {
  fileName: string;
  bytes: Uint8Array;
}

async function filesUnder(dir: string, root: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...await filesUnder(path, root));
    else if (entry.isFile) out.push(relative(root, path).split("\\").join("/"));
  }
  return out;
}

/** Zips one bundle source dir; throws when the result is not a valid bundle. */
export async function buildBundle(srcDir: string): Promise<BuiltBundle> {
  const names = (await filesUnder(srcDir, srcDir)).sort();
  if (!names.includes("manifest.json")) throw new Error(`${srcDir}: missing manifest.json`);
  const ordered = ["manifest.json", ...names.filter((n) => n !== "manifest.json")];
  const files: Record<string, Uint8Array> = {};
  for (const name of ordered) files[name] = await Deno.readFile(join(srcDir, name));
  const bytes = zipSync(files, { level: 9, mtime: FIXED_MTIME });
  const bundle = readFlowBundle(bytes);
  return { fileName: `${bundle.ref}.flow`, bytes };
}

/** Builds every `bundles/src/<name>/`, sorted by name. */
export async function buildAll(sourcesDir = SOURCES_DIR): Promise<BuiltBundle[]> {
  const dirs: string[] = [];
  for await (const entry of Deno.readDir(sourcesDir)) if (entry.isDirectory) dirs.push(entry.name);
  const built: BuiltBundle[] = [];
  for (const dir of dirs.sort()) built.push(await buildBundle(join(sourcesDir, dir)));
  return built;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

if (import.meta.main) {
  const check = Deno.args.includes("--check");
  let stale = 0;
  for (const b of await buildAll()) {
    const target = join(BUNDLES_DIR, b.fileName);
    if (check) {
      const current = await Deno.readFile(target).catch(() => null);
      if (current && sameBytes(current, b.bytes)) continue;
      stale++;
      console.error(`stale: ${b.fileName} (run: deno run -A bundles/build.ts)`);
    } else {
      await Deno.writeFile(target, b.bytes);
      console.log(`wrote ${relative(Deno.cwd(), target)} (${b.bytes.length} bytes)`);
    }
  }
  Deno.exit(stale === 0 ? 0 : 1);
}
