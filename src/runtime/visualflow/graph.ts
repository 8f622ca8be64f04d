/** The VisualFlow graph as the compiler sees it: typed nodes, exec edges and data edges (§7.1). */
import type { VisualFlow, VisualNode, VisualPin } from "../../bundles/types.ts";
import type { JsonObject } from "../types.ts";
import { isObject } from "../engine/json.ts";

export interface FlowNode {
  id: string;
  type: string;
  data: VisualNode["data"];
  inputs: VisualPin[];
  outputs: VisualPin[];
  /** Execution node (has exec pins) vs pure data node. */
  exec: boolean;
}

export interface DataSource {
  node: string;
  pin: string;
}

/** Types that are pure when they declare no pins at all (§7.2 step 3). */
const PURE_WITHOUT_PINS = new Set([
  "literal_string",
  "literal_number",
  "literal_boolean",
  "literal_json",
  "literal_array",
  "json_schema",
  "get_var",
  "get_context",
  "bool_var",
  "var_decl",
  "break_object",
  "tool_parameters",
]);

export class CompileError extends Error {
  constructor(workflowId: string, message: string) {
    super(`cannot compile workflow '${workflowId}': ${message}`);
    this.name = "CompileError";
  }
}

/** `NodeType.X` → `x`. */
export function normaliseType(type: string): string {
  const t = type.startsWith("NodeType.") ? type.slice("NodeType.".length) : type;
  return t.toLowerCase();
}

export class FlowGraph {
  readonly nodes = new Map<string, FlowNode>();
  /** node → exec handle → target node. */
  readonly execOut = new Map<string, Map<string, string>>();
  readonly execIn = new Map<string, { source: string; handle: string }[]>();
  /** target node → target pin → source. */
  readonly dataIn = new Map<string, Map<string, DataSource>>();

  constructor(readonly flow: VisualFlow, readonly workflowId: string, isPureType: (type: string) => boolean) {
    for (const n of flow.nodes ?? []) {
      const type = normaliseType(String(n.type ?? n.data?.nodeType ?? ""));
      const data = n.data ?? {};
      const inputs = Array.isArray(data.inputs) ? data.inputs : [];
      const outputs = Array.isArray(data.outputs) ? data.outputs : [];
      const pins = [...inputs, ...outputs];
      const exec = pins.length > 0
        ? pins.some((p) => p.type === "execution")
        : !(PURE_WITHOUT_PINS.has(type) || isPureType(type));
      this.nodes.set(n.id, { id: n.id, type, data, inputs, outputs, exec });
    }
    for (const e of flow.edges ?? []) {
      if (!e.sourceHandle || !e.targetHandle) continue;
      if (!this.nodes.has(e.source) || !this.nodes.has(e.target)) continue;
      if (e.targetHandle === "exec-in") {
        const out = this.execOut.get(e.source) ?? new Map<string, string>();
        if (out.has(e.sourceHandle)) {
          throw new CompileError(
            workflowId,
            `node '${e.source}' has two exec edges from handle '${e.sourceHandle}'`,
          );
        }
        out.set(e.sourceHandle, e.target);
        this.execOut.set(e.source, out);
        const into = this.execIn.get(e.target) ?? [];
        into.push({ source: e.source, handle: e.sourceHandle });
        this.execIn.set(e.target, into);
      } else {
        const into = this.dataIn.get(e.target) ?? new Map<string, DataSource>();
        if (into.has(e.targetHandle)) {
          throw new CompileError(
            workflowId,
            `pin '${e.target}.${e.targetHandle}' has more than one data edge`,
          );
        }
        into.set(e.targetHandle, { node: e.source, pin: e.sourceHandle });
        this.dataIn.set(e.target, into);
      }
    }
  }

  node(id: string): FlowNode {
    const n = this.nodes.get(id);
    if (!n) throw new CompileError(this.workflowId, `unknown node '${id}'`);
    return n;
  }

  target(nodeId: string, handle: string): string | null {
    return this.execOut.get(nodeId)?.get(handle) ?? null;
  }

  /** Entry: `entryNode` if executable, else the first exec node without incoming exec edges, else the first. */
  entry(override?: string): string {
    const execNodes = [...this.nodes.values()].filter((n) => n.exec);
    const preferred = override ?? this.flow.entryNode;
    if (preferred && this.nodes.get(preferred)?.exec) return preferred;
    const root = execNodes.find((n) => !this.execIn.has(n.id)) ?? execNodes[0];
    if (!root) throw new CompileError(this.workflowId, "the flow has no execution node");
    return root.id;
  }

  /** Exec nodes reachable from `entry` through exec edges (orphans are ignored). */
  reachable(entry: string): string[] {
    const seen = new Set<string>([entry]);
    const queue = [entry];
    while (queue.length > 0) {
      const id = queue.shift()!;
      for (const t of this.execOut.get(id)?.values() ?? []) {
        if (!seen.has(t)) {
          seen.add(t);
          queue.push(t);
        }
      }
    }
    return [...seen];
  }

  pinDefaults(node: FlowNode): JsonObject {
    const d = node.data.pinDefaults;
    return isObject(d) ? d : {};
  }

  declaredInputs(node: FlowNode): string[] {
    return node.inputs.filter((p) => p.type !== "execution").map((p) => p.id);
  }

  declaredOutputs(node: FlowNode): string[] {
    return node.outputs.filter((p) => p.type !== "execution").map((p) => p.id);
  }
}
