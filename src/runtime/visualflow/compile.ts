/**
 * VisualFlow → WorkflowSpec (runtime-model.md §7.2). Only exec nodes reachable from the entry get
 * handlers (orphans are ignored); an unsupported node type fails the run when it is reached, with
 * `Unsupported node type '<type>' (node <id>)`. Agent children and event listeners are derived specs.
 */
import type { VisualFlow } from "../../bundles/types.ts";
import type { NodeHandler, StepPlan, WorkflowSpec } from "../spec.ts";
import type { Json, JsonObject, RunState } from "../types.ts";
import { objectAt } from "../engine/json.ts";
import { UnsupportedNodeError } from "../errors.ts";
import { agentNode } from "./agent.ts";
import { CONTROL_NODES } from "./control.ts";
import { DATA_NODES } from "./data.ts";
import { EFFECT_EXEC_NODES, EFFECT_OUTPUTS } from "./effects.ts";
import { EVENT_EXEC_NODES, EVENT_OUTPUTS } from "./events.ts";
import { ExecContext } from "./exec_context.ts";
import type { ExecFn } from "./families.ts";
import { FlowGraph, type FlowNode } from "./graph.ts";
import { LITERAL_NODES } from "./literals.ts";
import { MEDIA_EXEC_NODES, MEDIA_OUTPUTS } from "./media.ts";
import { LOGIC_NODES } from "./logic.ts";
import { MATH_NODES } from "./math.ts";
import { type PinCatalog, PinResolver, type PureFn } from "./pins.ts";
import { STRING_NODES } from "./strings.ts";
import { VAR_EXEC_NODES, VAR_PURE_NODES } from "./vars.ts";

const PURE: Record<string, PureFn> = {
  ...LITERAL_NODES,
  ...MATH_NODES,
  ...LOGIC_NODES,
  ...STRING_NODES,
  ...DATA_NODES,
  ...VAR_PURE_NODES,
};
const EXEC: Record<string, ExecFn> = {
  ...EVENT_EXEC_NODES,
  ...CONTROL_NODES,
  ...VAR_EXEC_NODES,
  ...EFFECT_EXEC_NODES,
  ...MEDIA_EXEC_NODES,
};
const OUTPUTS = { ...EFFECT_OUTPUTS, ...EVENT_OUTPUTS, ...MEDIA_OUTPUTS };

const CATALOG: PinCatalog = {
  pure: (type) => PURE[type],
  effectOutputs: (type) => OUTPUTS[type],
};

/** Node types this compiler runs (exec or pure), for docs and tests. */
export const SUPPORTED_NODE_TYPES: readonly string[] = [
  ...new Set([...Object.keys(PURE), ...Object.keys(EXEC), "agent"]),
]
  .sort();

export interface CompileOptions {
  workflowId: string;
  /** Entry override (event-listener copies start at their On Event node). */
  entryNode?: string;
  /** Builds the ReAct child spec for an agent node (src/runtime/llm/). */
  agentSpec: (reactWorkflowId: string, agentConfig: JsonObject) => WorkflowSpec;
}

export interface CompiledFlow {
  spec: WorkflowSpec;
  /** Derived workflow ids (agent children, event listeners) → specs. */
  derived: Map<string, WorkflowSpec>;
}

/** `s()` of §6: every run of chars outside `[A-Za-z0-9_-]` becomes `_`. */
export const safeIdPart = (s: string): string => s.replace(/[^A-Za-z0-9_-]+/g, "_");

const JOIN_PREFIX = "__internal_join_exec__";

export function compileVisualFlow(flow: VisualFlow, options: CompileOptions): CompiledFlow {
  const graph = new FlowGraph(flow, options.workflowId, (t) => t in PURE && !(t in EXEC));
  const entry = graph.entry(options.entryNode);
  const reachable = graph.reachable(entry);
  const reachableSet = new Set(reachable);
  const redirect = new Map<string, string>();
  for (const id of reachable) {
    const incoming = (graph.execIn.get(id) ?? []).filter((e) => reachableSet.has(e.source));
    if (incoming.length >= 2 && id !== entry) redirect.set(id, JOIN_PREFIX + id);
  }
  const derived = new Map<string, WorkflowSpec>();
  const reactIds = new Map<string, string>();
  const nodes: Record<string, NodeHandler> = {};
  for (const id of reachable) {
    const node = graph.node(id);
    if (node.type === "agent") {
      const cfg = (node.data.agentConfig ?? {}) as JsonObject;
      const reactId = typeof cfg._react_workflow_id === "string"
        ? cfg._react_workflow_id
        : `visual_react_agent_${safeIdPart(options.workflowId)}_${safeIdPart(id)}`;
      reactIds.set(id, reactId);
      derived.set(reactId, options.agentSpec(reactId, cfg));
    }
    nodes[id] = nodeHandler(graph, node, redirect, (nodeId) => reactIds.get(nodeId)!);
  }
  for (const [target, joinId] of redirect) nodes[joinId] = joinHandler(graph, target);
  const spec: WorkflowSpec = { workflow_id: options.workflowId, entry_node: entry, nodes };
  if (options.entryNode === undefined) {
    const listeners: string[] = [];
    for (const node of graph.nodes.values()) {
      if (node.type !== "on_event" || node.id === entry) continue;
      const listenerId = `visual_event_listener_${safeIdPart(options.workflowId)}_${safeIdPart(node.id)}`;
      const compiled = compileVisualFlow(flow, { ...options, workflowId: listenerId, entryNode: node.id });
      derived.set(listenerId, compiled.spec);
      for (const [k, v] of compiled.derived) derived.set(k, v);
      listeners.push(listenerId);
    }
    if (listeners.length > 0) spec.event_listeners = listeners;
  }
  return { spec, derived };
}

function nodeHandler(
  graph: FlowGraph,
  node: FlowNode,
  redirect: Map<string, string>,
  reactId: (nodeId: string) => string,
): NodeHandler {
  const exec = node.type === "agent" ? agentNode(reactId) : EXEC[node.type];
  const pure = PURE[node.type];
  return (run: RunState) => {
    const ctx = new ExecContext(run, node, graph, new PinResolver(graph, run, CATALOG), redirect);
    try {
      if (exec) return exec(ctx);
      if (pure) return functionNode(ctx, pure);
      throw new UnsupportedNodeError(node.type, node.id);
    } catch (err) {
      if (err instanceof UnsupportedNodeError) throw err;
      return dataError(run, node, err);
    }
  };
}

/** A builtin with exec pins: compute, publish on the data bus, continue (or complete with the result). */
function functionNode(ctx: ExecContext, fn: PureFn): StepPlan {
  const out = fn(ctx.inputs(), ctx.node, ctx.run);
  ctx.setOutputs(out, { lastOutput: true });
  return ctx.continueOr("exec-out", ExecContext.completion(out));
}

/** Visual data errors complete the run with `success:false` instead of failing it (upstream quirk). */
function dataError(run: RunState, node: FlowNode, err: unknown): StepPlan {
  const error = err instanceof Error ? err.message : String(err);
  run.vars._flow_error = error;
  run.vars._flow_error_node = node.id;
  return { node_id: node.id, complete_output: { error, success: false, node: node.id } };
}

/** Multi-entry lowering: records which route entered (`{which, from, from_handle}`) and goes on. */
function joinHandler(graph: FlowGraph, target: string): NodeHandler {
  const routes = graph.execIn.get(target) ?? [];
  return (run: RunState) => {
    const temp = objectAt(run.vars, "_temp");
    const from = typeof temp.prev_node_id === "string" ? temp.prev_node_id : null;
    const handle = typeof temp.prev_exec_handle === "string" ? temp.prev_exec_handle : null;
    const which = routes.findIndex((r) => r.source === from && (handle === null || r.handle === handle));
    const out: Json = { which, from, from_handle: handle };
    objectAt(run.vars, "_temp.node_outputs")[JOIN_PREFIX + target] = out;
    return { node_id: JOIN_PREFIX + target, next_node: target };
  };
}

export interface UnrunnableNode {
  flow_id: string;
  node_id: string;
  type: string;
}

/**
 * Nodes a run of `flow` could reach: exec nodes reachable from the entry or from an On Event
 * listener, plus the pure nodes feeding them (data edges, transitively). Orphans are left out, as
 * at run time.
 */
export function reachableNodes(flow: VisualFlow): FlowNode[] {
  const graph = new FlowGraph(flow, flow.id, (t) => t in PURE && !(t in EXEC));
  const listeners = [...graph.nodes.values()].filter((n) => n.type === "on_event").map((n) => n.id);
  const seen = new Set<string>();
  const queue = [...new Set([graph.entry(), ...listeners].flatMap((s) => graph.reachable(s)))];
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const src of graph.dataIn.get(id)?.values() ?? []) queue.push(src.node);
  }
  return [...seen].map((id) => graph.node(id));
}

/** The reachable nodes of `flow` whose type this gateway cannot run. */
export function unrunnableNodes(flow: VisualFlow): UnrunnableNode[] {
  const supported = new Set(SUPPORTED_NODE_TYPES);
  return reachableNodes(flow).filter((n) => !supported.has(n.type)).map((n) => ({
    flow_id: flow.id,
    node_id: n.id,
    type: n.type,
  }));
}
