/**
 * Data-flow pin resolution (runtime-model.md §7.3). Pure nodes are recomputed on demand (memoised
 * for one handler call, so loops see fresh values); exec-node outputs come from the run's vars
 * (`_temp.node_outputs`, or effect results mapped to pins), so restarted runs see the same values.
 */
import type { Json, JsonObject, RunState } from "../types.ts";
import { getPath, isObject } from "../engine/json.ts";
import { UnsupportedNodeError } from "../errors.ts";
import type { FlowGraph, FlowNode } from "./graph.ts";

export type PureFn = (inputs: JsonObject, node: FlowNode, run: RunState) => JsonObject;
export type EffectOutputsFn = (result: Json, node: FlowNode, run: RunState) => JsonObject;

export interface PinCatalog {
  pure(type: string): PureFn | undefined;
  effectOutputs(type: string): EffectOutputsFn | undefined;
}

export class DataCycleError extends Error {}

export class PinResolver {
  private memo = new Map<string, JsonObject | undefined>();
  private active = new Set<string>();

  constructor(private graph: FlowGraph, private run: RunState, private catalog: PinCatalog) {}

  /** The resolved input dict of `node`; exec nodes start from the `_last_output` data bus. */
  inputs(node: FlowNode): JsonObject {
    const out: JsonObject = {};
    if (node.exec) {
      const bus = this.run.vars._last_output;
      if (isObject(bus)) Object.assign(out, bus);
    }
    const wired = this.graph.dataIn.get(node.id) ?? new Map();
    for (const [pin, src] of wired) {
      const value = this.pinValue(src.node, src.pin);
      if (value !== undefined) out[pin] = value;
    }
    const declared = new Set(this.graph.declaredInputs(node));
    for (const [pin, value] of Object.entries(this.graph.pinDefaults(node))) {
      if (wired.has(pin)) continue;
      if (declared.has(pin) || !(pin in out)) out[pin] = structuredClone(value);
    }
    return out;
  }

  /** `out[pin]` if the source output has that key; the whole output for pins `result`/`output`. */
  pinValue(nodeId: string, pin: string): Json | undefined {
    const output = this.outputOf(nodeId);
    if (output === undefined) return undefined;
    if (pin in output) return output[pin];
    if (pin === "result" || pin === "output") return output;
    return undefined;
  }

  outputOf(nodeId: string): JsonObject | undefined {
    const node = this.graph.nodes.get(nodeId);
    if (!node) return undefined;
    if (!node.exec) return this.pureOutput(node);
    const stored = getPath(this.run.vars, `_temp.node_outputs.${nodeId}`);
    if (isObject(stored)) return stored;
    const effects = getPath(this.run.vars, "_temp.effects");
    const toPins = this.catalog.effectOutputs(node.type);
    if (isObject(effects) && nodeId in effects && toPins) return toPins(effects[nodeId], node, this.run);
    return undefined;
  }

  private pureOutput(node: FlowNode): JsonObject | undefined {
    if (this.memo.has(node.id)) return this.memo.get(node.id);
    const fn = this.catalog.pure(node.type);
    if (!fn) throw new UnsupportedNodeError(node.type, node.id);
    if (this.active.has(node.id)) throw new DataCycleError(`data cycle through node '${node.id}'`);
    this.active.add(node.id);
    try {
      const out = fn(this.inputs(node), node, this.run);
      this.memo.set(node.id, out);
      return out;
    } finally {
      this.active.delete(node.id);
    }
  }
}
