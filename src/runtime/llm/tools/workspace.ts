/**
 * Confines file tools to the run's workspace. Paths are resolved against the real path of the root
 * and the deepest existing ancestor of the target is real-path checked, so `..` and symlinks that
 * point outside are refused (Deno permissions follow symlinks, so the sandbox alone is not enough).
 */
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { ToolError } from "./types.ts";

/** The run's workspace: the root as configured and its real path (resolved once per tool call). */
export interface Workspace {
  readonly configured: string;
  readonly root: string;
}

export async function openWorkspace(configured: string | null): Promise<Workspace> {
  if (!configured) {
    throw new ToolError(
      "This run has no workspace (vars.workspace_root is not set); file tools are disabled",
    );
  }
  try {
    return { configured, root: await Deno.realPath(configured) };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new ToolError(`The workspace directory does not exist: ${configured}`);
    }
    throw error;
  }
}

const inside = (root: string, path: string): boolean => {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
};

/** Absolute, real-path-checked location of `requested` inside the workspace (it may not exist yet). */
export async function resolveInWorkspace(workspace: Workspace, requested: string): Promise<string> {
  const { configured, root } = workspace;
  const text = requested.trim() || ".";
  let candidate = isAbsolute(text) ? resolve(text) : resolve(root, text);
  // An absolute path spelled through the configured (non-real) root is fine too.
  if (isAbsolute(text) && !inside(root, candidate) && inside(resolve(configured), candidate)) {
    candidate = join(root, relative(resolve(configured), candidate));
  }
  if (!inside(root, candidate)) throw outside(requested);
  let existing = candidate;
  const missing: string[] = [];
  for (;;) {
    try {
      existing = await Deno.realPath(existing);
      break;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      const parent = dirname(existing);
      if (parent === existing) throw outside(requested);
      missing.unshift(basename(existing));
      existing = parent;
    }
  }
  if (!inside(root, existing)) throw outside(requested);
  return missing.length ? join(existing, ...missing) : existing;
}

/** Path shown to the model: relative to the workspace root. */
export function displayPath(workspace: Workspace, path: string): string {
  return relative(workspace.root, path) || ".";
}

function outside(requested: string): ToolError {
  return new ToolError(
    `Path "${requested}" is outside the run workspace; only files under the workspace root can be used`,
  );
}
