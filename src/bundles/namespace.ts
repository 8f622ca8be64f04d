/**
 * Namespacing of bundle flows: every flow of `B@V` becomes workflow `B@V:<flow_id>`, and the
 * references a flow makes to its siblings are rewritten so the runtime resolves them globally.
 */
import type { VisualFlow, VisualNode } from "./types.ts";

/** Node data keys that name another workflow (subflow nodes). */
export const SUBFLOW_REF_KEYS = ["subflowId", "flowId", "workflowId", "workflow_id"] as const;

export function workflowIdOf(bundleId: string, version: string, flowId: string): string {
  return `${bundleId}@${version}:${flowId}`;
}

/** Every run of characters outside `[A-Za-z0-9_-]` replaced by `_` (ids derived from flow/node ids). */
export function safeIdPart(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]+/g, "_");
}

/** The workflow id of an agent node's ReAct sub-workflow. */
export function reactWorkflowId(workflowId: string, nodeId: string): string {
  return `visual_react_agent_${safeIdPart(workflowId)}_${safeIdPart(nodeId)}`;
}

/** `node.type` normalised: `"NodeType.AGENT"` → `"agent"`. */
export function nodeTypeOf(node: VisualNode): string {
  const t = String(node.type ?? "");
  return t.startsWith("NodeType.") ? t.slice("NodeType.".length).toLowerCase() : t;
}

/**
 * Rewrites (in place) each flow's `id`, sibling subflow references and agent ReAct ids.
 * `siblings` maps every name a flow may be referenced by (manifest key or the flow's own id)
 * to its namespaced workflow id.
 */
export function namespaceFlow(
  flow: VisualFlow,
  workflowId: string,
  siblings: ReadonlyMap<string, string>,
): void {
  flow.id = workflowId;
  for (const node of flow.nodes) {
    const data = node.data;
    for (const key of SUBFLOW_REF_KEYS) {
      const ref = data[key];
      if (typeof ref === "string" && siblings.has(ref)) data[key] = siblings.get(ref);
    }
    if (nodeTypeOf(node) === "agent") {
      const config = typeof data.agentConfig === "object" && data.agentConfig !== null &&
          !Array.isArray(data.agentConfig)
        ? data.agentConfig as Record<string, unknown>
        : {};
      data.agentConfig = { ...config, _react_workflow_id: reactWorkflowId(workflowId, node.id) };
    }
  }
}
