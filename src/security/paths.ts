/**
 * Deno's permission checks apply to the path as given, not to where a symlink points: a link planted in
 * the data dir would let the gateway read any file. Every file the gateway serves from a client-influenced
 * path must first go through `realPathInside`, which resolves all links and checks containment.
 */
import { isAbsolute, relative, resolve } from "node:path";

export class PathEscapeError extends Error {
  constructor(readonly path: string) {
    super(`Path '${path}' resolves outside the allowed directories`);
    this.name = "PathEscapeError";
  }
}

function within(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/**
 * The real path of `path` (relative paths are taken against the first root) when it exists and lies
 * inside one of `roots` after resolving every symlink; else throws PathEscapeError (or NotFound).
 */
export async function realPathInside(path: string, roots: readonly string[]): Promise<string> {
  if (roots.length === 0) throw new PathEscapeError(path);
  const candidate = resolve(roots[0], path);
  if (!roots.some((root) => within(candidate, resolve(root)))) throw new PathEscapeError(path);
  const real = await Deno.realPath(candidate);
  for (const root of roots) {
    const realRoot = await Deno.realPath(root).catch(() => null);
    if (realRoot !== null && within(real, realRoot)) return real;
  }
  throw new PathEscapeError(path);
}
