/**
 * Virtual workspace paths: `<mount>:/rel/path` names a file under a named mount, anything else is
 * relative to the workspace root (or absolute, when it lies inside a root). Parsing is purely lexical;
 * `files.ts` resolves the result with real paths before touching the disk.
 */
import { isAbsolute, relative, sep } from "node:path";
import { ToolingError } from "./errors.ts";

/** The name of the workspace root (ABSTRACTGATEWAY_WORKSPACE_DIR) among the roots. */
export const WORKSPACE_ROOT = "";

export interface WorkspaceRoot {
  /** `""` for the workspace dir, otherwise the mount name. */
  name: string;
  /** Configured absolute path (may itself be a symlink; resolved per request). */
  path: string;
}

/** Directory names never listed, read or written (`.abstractignore`-style built-in defaults). */
const IGNORED = new Set([".git", "node_modules", ".venv"]);

export interface ParsedPath {
  root: WorkspaceRoot;
  /** Clean relative segments below the root (no `.`, `..` or empty parts). */
  segments: string[];
}

const MOUNT_REF = /^([A-Za-z0-9_-]{1,32}):(\/.*)?$/;

/** `<mount>:/a/b` → mount root + [a, b]; `a/b` → workspace root + [a, b]; absolute → the root holding it. */
export function parseVirtualPath(input: string, roots: WorkspaceRoot[]): ParsedPath {
  if (input.includes("\0")) throw new ToolingError(400, "Path contains a NUL byte");
  const mount = MOUNT_REF.exec(input);
  if (mount) {
    const root = roots.find((r) => r.name === mount[1] && r.name !== WORKSPACE_ROOT);
    if (!root) throw new ToolingError(404, `Unknown workspace mount '${mount[1]}'`);
    return { root, segments: cleanSegments(mount[2] ?? "") };
  }
  if (isAbsolute(input)) {
    const clean = "/" + cleanSegments(input).join("/");
    for (const root of roots) {
      const segments = segmentsUnder(clean, root.path);
      if (segments) return { root, segments: cleanSegments(segments.join("/")) };
    }
    throw new ToolingError(403, `Path '${input}' is outside the workspace roots`);
  }
  const root = roots.find((r) => r.name === WORKSPACE_ROOT);
  if (!root) {
    throw new ToolingError(
      404,
      "No workspace root configured (set ABSTRACTGATEWAY_WORKSPACE_DIR, or use '<mount>:/path')",
    );
  }
  return { root, segments: cleanSegments(input) };
}

function cleanSegments(path: string): string[] {
  const segments = path.split(/[\\/]+/).filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) throw new ToolingError(403, "Path may not contain '..' segments");
  return segments;
}

/** True when one of the segments is a built-in ignored directory (`.git`, `node_modules`, `.venv`). */
export function isIgnored(segments: string[]): boolean {
  return segments.some((s) => IGNORED.has(s));
}

/** The virtual spelling of a path below a root, as returned to clients. */
export function virtualPath(root: WorkspaceRoot, segments: string[]): string {
  const rel = segments.join("/");
  return root.name === WORKSPACE_ROOT ? (rel === "" ? "." : rel) : `${root.name}:/${rel}`;
}

/** Relative segments of `real` under `base` (both real, absolute), or null when it is outside. */
export function segmentsUnder(real: string, base: string): string[] | null {
  const rel = relative(base, real);
  if (rel === "") return [];
  if (rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return null;
  return rel.split(sep);
}
