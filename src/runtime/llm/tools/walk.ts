/** Directory walking for file tools: never follows symlinked directories, skips hidden entries on request. */
import { join, relative } from "node:path";

export interface WalkEntry {
  path: string;
  /** Relative to the walk's base directory, `/`-separated. */
  rel: string;
  isDirectory: boolean;
}

export interface WalkOptions {
  maxDepth: number;
  includeHidden: boolean;
  /** Stop after this many entries (keeps huge trees cheap). */
  limit: number;
}

const HEAVY_DIRS = new Set(["node_modules", "__pycache__", ".git"]);

export async function walk(base: string, options: WalkOptions): Promise<WalkEntry[]> {
  const out: WalkEntry[] = [];
  const visit = async (dir: string, depth: number): Promise<void> => {
    const entries: Deno.DirEntry[] = [];
    for await (const entry of Deno.readDir(dir)) entries.push(entry);
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (out.length >= options.limit) return;
      if (!options.includeHidden && entry.name.startsWith(".")) continue;
      const path = join(dir, entry.name);
      const rel = relative(base, path).split("\\").join("/");
      out.push({ path, rel, isDirectory: entry.isDirectory });
      if (entry.isDirectory && depth < options.maxDepth && !HEAVY_DIRS.has(entry.name)) {
        await visit(path, depth + 1);
      }
    }
  };
  await visit(base, 1);
  return out;
}

/** Largest file the tools read (the read_file error names it as 2 MB). */
const MAX_TEXT_BYTES = 2_000_000;

/** Reads a text file, refusing binaries and files over 2 MB. Returns null for those. */
export async function readText(path: string): Promise<string | null> {
  const info = await Deno.stat(path);
  if (!info.isFile || info.size > MAX_TEXT_BYTES) return null;
  const bytes = await Deno.readFile(path);
  if (bytes.includes(0)) return null;
  return new TextDecoder().decode(bytes);
}
