/** Run-tree walks over the store (so runs written by another process are seen too). */
import type { RunState } from "../runtime/types.ts";
import type { RunStore } from "../store/types.ts";

/** The run and every descendant, breadth-first, root first. Cycles and repeats are ignored. */
export async function listTree(runs: RunStore, root: RunState): Promise<RunState[]> {
  const seen = new Set([root.run_id]);
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    for (const child of await runs.listChildren(out[i].run_id)) {
      if (seen.has(child.run_id)) continue;
      seen.add(child.run_id);
      out.push(child);
    }
  }
  return out;
}

/** Follows `parent_run_id` links up to the root (stops at a missing parent or a cycle). */
export async function findRoot(runs: RunStore, run: RunState): Promise<RunState> {
  const seen = new Set([run.run_id]);
  let current = run;
  while (current.parent_run_id && !seen.has(current.parent_run_id)) {
    const parent = await runs.load(current.parent_run_id);
    if (!parent) break;
    seen.add(parent.run_id);
    current = parent;
  }
  return current;
}
