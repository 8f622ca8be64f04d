/**
 * Which reachable nodes of a flow (and of the subflows it starts) this gateway cannot run: `gateway
 * bundle validate` reports them, `POST /runs/start` refuses such a run up front instead of letting
 * it fail when it reaches the node.
 */
import type { VisualFlow } from "./types.ts";
import { SUBFLOW_REF_KEYS } from "./namespace.ts";
import { CompileError } from "../runtime/visualflow/graph.ts";
import { reachableNodes, type UnrunnableNode, unrunnableNodes } from "../runtime/visualflow/compile.ts";

/**
 * Unrunnable nodes of `rootId` and of every subflow it can start (resolved with `lookup`, each
 * flow once). A flow that does not compile reports itself (empty `node_id`, the reason as `type`).
 */
export function unrunnableInTree(
  rootId: string,
  lookup: (workflowId: string) => VisualFlow | undefined,
): UnrunnableNode[] {
  const out: UnrunnableNode[] = [];
  const seen = new Set<string>();
  const queue = [rootId];
  while (queue.length > 0) {
    const id = queue.shift()!;
    const flow = seen.has(id) ? undefined : lookup(id);
    seen.add(id);
    if (!flow) continue;
    try {
      out.push(...unrunnableNodes(flow));
      for (const node of reachableNodes(flow)) {
        if (node.type !== "subflow") continue;
        const ref = SUBFLOW_REF_KEYS.map((k) => node.data[k]).find((v) => typeof v === "string" && v);
        if (typeof ref === "string") queue.push(ref);
      }
    } catch (err) {
      if (!(err instanceof CompileError)) throw err;
      out.push({ flow_id: flow.id, node_id: "", type: err.message });
    }
  }
  return out;
}

export const describeUnrunnable = (n: UnrunnableNode): string =>
  n.node_id
    ? `node '${n.node_id}' of flow '${n.flow_id}' has type '${n.type}', which this gateway cannot run`
    : `flow '${n.flow_id}' cannot be compiled: ${n.type}`;
