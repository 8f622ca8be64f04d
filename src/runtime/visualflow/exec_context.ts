/**
 * What an execution-node handler works with: resolved inputs, successors, output storage, the
 * control stack (`_temp._control`) and the plans that end a branch (§7.2 step 5, §7.4).
 */
import type { StepPlan } from "../spec.ts";
import type { Effect, Json, JsonObject, RunState } from "../types.ts";
import { isObject, objectAt } from "../engine/json.ts";
import type { FlowGraph, FlowNode } from "./graph.ts";
import type { PinResolver } from "./pins.ts";

export class ExecContext {
  private resolved: JsonObject | undefined;

  constructor(
    readonly run: RunState,
    readonly node: FlowNode,
    readonly graph: FlowGraph,
    readonly pins: PinResolver,
    /** Exec target → the join node inserted in front of it (multi-entry lowering). */
    private readonly redirect: Map<string, string>,
  ) {}

  get vars(): JsonObject {
    return this.run.vars;
  }

  temp(): JsonObject {
    return objectAt(this.run.vars, "_temp");
  }

  /** Resolved inputs (memoised for this call). */
  inputs(): JsonObject {
    this.resolved ??= this.pins.inputs(this.node);
    return this.resolved;
  }

  /** Recompute inputs (loop conditions after state changes). */
  freshInputs(): JsonObject {
    this.resolved = undefined;
    return this.inputs();
  }

  /** The exec target of `handle` (via its join node when lowered), or null. */
  successor(handle = "exec-out"): string | null {
    const target = this.graph.target(this.node.id, handle);
    if (target === null) return null;
    this.temp().prev_exec_handle = handle;
    return this.redirect.get(target) ?? target;
  }

  /** Stores a function/control node's outputs; function nodes also put them on the data bus. */
  setOutputs(output: JsonObject, options: { lastOutput: boolean }): void {
    objectAt(this.run.vars, "_temp.node_outputs")[this.node.id] = output;
    if (options.lastOutput) this.run.vars._last_output = output;
  }

  // --- control stack -------------------------------------------------------------------------
  control(): JsonObject {
    const c = objectAt(this.run.vars, "_temp._control");
    if (!Array.isArray(c.stack)) c.stack = [];
    if (!isObject(c.frames)) c.frames = {};
    return c;
  }

  stack(): string[] {
    return (this.control().stack as Json[]).map(String);
  }

  frame(): JsonObject | undefined {
    const f = (this.control().frames as JsonObject)[this.node.id];
    return isObject(f) ? f : undefined;
  }

  setFrame(frame: JsonObject): void {
    (this.control().frames as JsonObject)[this.node.id] = frame;
  }

  /** True when this call is a branch end returning here (not an explicit exec edge). */
  consumeReturn(): boolean {
    const c = this.control();
    if (c.return_to !== this.node.id) return false;
    delete c.return_to;
    return true;
  }

  /** Pushes this node (dropping it and anything above it when re-entered explicitly). */
  pushSelf(): void {
    const stack = this.stack();
    const at = stack.indexOf(this.node.id);
    const kept = at >= 0 ? stack.slice(0, at) : stack;
    this.control().stack = [...kept, this.node.id];
  }

  popSelf(): void {
    const stack = this.stack();
    const at = stack.indexOf(this.node.id);
    if (at >= 0) this.control().stack = stack.slice(0, at);
    delete (this.control().frames as JsonObject)[this.node.id];
  }

  /** The innermost active control node to return to, marking the return. */
  controlReturn(): string | null {
    const stack = this.stack();
    const top = stack[stack.length - 1];
    if (top === undefined) return null;
    this.control().return_to = top;
    return top;
  }

  // --- plans -------------------------------------------------------------------------------
  goto(next: string): StepPlan {
    return { node_id: this.node.id, next_node: next };
  }

  /** A branch ended: return to the active control node, else complete the run with `output`. */
  endBranch(output: JsonObject): StepPlan {
    const back = this.controlReturn();
    return back ? this.goto(back) : { node_id: this.node.id, complete_output: output };
  }

  /** Continue on `handle`, or end the branch with `output` when it is not connected. */
  continueOr(handle: string, output: JsonObject): StepPlan {
    const next = this.successor(handle);
    return next ? this.goto(next) : this.endBranch(output);
  }

  /** An effect plan: payload `resume_to_node` is the raw successor; the run goes on to it or returns. */
  effect(effect: Effect, successor: string | null): StepPlan {
    const next = successor ?? this.controlReturn();
    return { node_id: this.node.id, effect, next_node: next };
  }

  /** `{...result, success:true}` for objects, `{response, success:true}` otherwise. */
  static completion(result: Json): JsonObject {
    return isObject(result) ? { ...result, success: true } : { response: result, success: true };
  }
}
