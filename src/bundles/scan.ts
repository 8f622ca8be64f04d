/**
 * Read-only discovery of `.flow` files: every `*.flow` directly in the flows dir (sorted by name),
 * or the flows dir itself when it is one file. Bad bundles are reported, never fatal.
 */
import { isAbsolute, join, relative, resolve } from "node:path";
import { readFlowBundleFrom, type ReadOptions } from "./reader.ts";
import { withFileSource } from "./zip_stream.ts";
import type { BundleLoadError, LoadedBundle } from "./types.ts";

export interface FlowFile {
  /** Absolute path of the directory entry (what install/remove operate on). */
  path: string;
  /** Resolved real path (what is read). */
  realPath: string;
}

export interface ScanResult {
  bundles: LoadedBundle[];
  errors: BundleLoadError[];
}

function inside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Lists the `.flow` files of `flowsDir`; a missing dir lists nothing. */
export async function listFlowFiles(
  flowsDir: string,
): Promise<{ files: FlowFile[]; errors: BundleLoadError[] }> {
  const root = resolve(flowsDir);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(root);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { files: [], errors: [] };
    throw err;
  }
  if (info.isFile) return { files: [{ path: root, realPath: await Deno.realPath(root) }], errors: [] };

  const realRoot = await Deno.realPath(root);
  const names: string[] = [];
  for await (const entry of Deno.readDir(root)) {
    if ((entry.isFile || entry.isSymlink) && entry.name.toLowerCase().endsWith(".flow")) {
      names.push(entry.name);
    }
  }
  names.sort();
  const files: FlowFile[] = [];
  const errors: BundleLoadError[] = [];
  for (const name of names) {
    const path = join(root, name);
    try {
      // Deno permissions follow symlinks: never read through a link that leaves the flows dir.
      const real = await Deno.realPath(path);
      if (!inside(real, realRoot)) {
        errors.push({
          file: path,
          error: `Refusing ${name}: it is a symlink pointing outside the flows dir`,
        });
        continue;
      }
      if (!(await Deno.stat(real)).isFile) {
        errors.push({ file: path, error: `Refusing ${name}: not a regular file` });
        continue;
      }
      files.push({ path, realPath: real });
    } catch (err) {
      errors.push({ file: path, error: `Cannot read ${name}: ${message(err)}` });
    }
  }
  return { files, errors };
}

/** Reads and validates each file; the first file of a duplicate `id@version` wins. */
export async function loadFlowFiles(files: FlowFile[], options: ReadOptions = {}): Promise<ScanResult> {
  const bundles: LoadedBundle[] = [];
  const errors: BundleLoadError[] = [];
  const byRef = new Map<string, LoadedBundle>();
  for (const f of files) {
    let bundle: LoadedBundle;
    try {
      bundle = {
        ...await withFileSource(f.realPath, (src) => readFlowBundleFrom(src, options)),
        file: f.path,
      };
    } catch (err) {
      errors.push({ file: f.path, error: message(err) });
      continue;
    }
    const first = byRef.get(bundle.ref);
    if (first) {
      errors.push({
        file: f.path,
        error: `Duplicate bundle ${bundle.ref} (already loaded from ${first.file}); skipped`,
      });
      continue;
    }
    byRef.set(bundle.ref, bundle);
    bundles.push(bundle);
  }
  return { bundles, errors };
}

/** Lists and loads a flows dir (or one file). */
export async function scanFlowsDir(flowsDir: string, options: ReadOptions = {}): Promise<ScanResult> {
  const listed = await listFlowFiles(flowsDir);
  const loaded = await loadFlowFiles(listed.files, options);
  return { bundles: loaded.bundles, errors: [...listed.errors, ...loaded.errors] };
}
