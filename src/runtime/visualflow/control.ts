/** Control nodes (§7.5 Control flow): if, switch, while, loop, for, sequence, parallel. Frames live in `_temp._control`. */
import type { StepPlan } from "../spec.ts";
import type { Json, JsonObject } from "../types.ts";
import { isObject } from "../engine/json.ts";
import type { ExecContext } from "./exec_context.ts";
import type { ExecFn } from "./families.ts";
import { NodeDataError } from "./families.ts";
import { pyStr, toNumber, truthy } from "./py.ts";

const WHILE_CAP = 10_000;

const lastOutput = (ctx: ExecContext): Json => ctx.vars._last_output ?? null;

/** The frame to continue, or a fresh one (explicit entry restarts the frame). */
function enter(ctx: ExecContext, fresh: () => JsonObject): { frame: JsonObject; returning: boolean } {
  const returning = ctx.consumeReturn();
  const existing = returning ? ctx.frame() : undefined;
  if (existing) return { frame: existing, returning: true };
  ctx.pushSelf();
  const frame = fresh();
  ctx.setFrame(frame);
  return { frame, returning: false };
}

/** Runs the body on `loop` (an unconnected body returns straight here). */
function runBody(ctx: ExecContext, output: JsonObject): StepPlan {
  ctx.setOutputs(output, { lastOutput: false });
  const body = ctx.successor("loop");
  if (body) return ctx.goto(body);
  ctx.control().return_to = ctx.node.id;
  return ctx.goto(ctx.node.id);
}

/** Leaves the frame: `done`/`completed` (when given), else the parent control node, else complete. */
function exit(ctx: ExecContext, handle: string | null = "done"): StepPlan {
  ctx.popSelf();
  const output = { success: true, result: lastOutput(ctx) };
  return handle ? ctx.continueOr(handle, output) : ctx.endBranch(output);
}

function thenHandles(ctx: ExecContext): string[] {
  const handles = [...(ctx.graph.execOut.get(ctx.node.id)?.keys() ?? [])].filter((h) => /^then:\d+$/.test(h));
  return handles.sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
}

function sequence(ctx: ExecContext, doneHandle: string | null): StepPlan {
  const { frame } = enter(ctx, () => ({ next: 0 }));
  const handles = thenHandles(ctx);
  let n = typeof frame.next === "number" ? frame.next : 0;
  while (n < handles.length) {
    const target = ctx.successor(handles[n++]);
    if (target) {
      ctx.setFrame({ next: n });
      return ctx.goto(target);
    }
  }
  return exit(ctx, doneHandle);
}

export const CONTROL_NODES: Record<string, ExecFn> = {
  if: (ctx) => {
    const condition = truthy(ctx.inputs().condition);
    const out: JsonObject = { branch: condition ? "true" : "false", condition };
    ctx.setOutputs(out, { lastOutput: true });
    return ctx.continueOr(condition ? "true" : "false", { ...out, success: true });
  },
  switch: (ctx) => {
    const value = ctx.inputs().value;
    const cfg = ctx.node.data.switchConfig as { cases?: { id: string; value: Json }[] } | undefined;
    const hit = (cfg?.cases ?? []).find((c) => pyStr(c.value ?? null) === pyStr(value ?? null));
    const out: JsonObject = { value: value ?? null, case: hit ? hit.id : "default" };
    ctx.setOutputs(out, { lastOutput: true });
    return ctx.continueOr(hit ? `case:${hit.id}` : "default", { ...out, success: true });
  },
  while: (ctx) => {
    const { frame, returning } = enter(ctx, () => ({ index: 0 }));
    const index = returning ? Number(frame.index ?? 0) + 1 : 0;
    if (index >= WHILE_CAP) {
      ctx.popSelf();
      return {
        node_id: ctx.node.id,
        complete_output: {
          success: false,
          error: `while loop exceeded ${WHILE_CAP} iterations`,
          node: ctx.node.id,
        },
      };
    }
    if (!truthy(ctx.freshInputs().condition)) return exit(ctx);
    ctx.setFrame({ index });
    const bus = ctx.vars._last_output;
    const base = isObject(bus) ? bus : {};
    return runBody(ctx, { ...base, item: null, index });
  },
  loop: (ctx) => {
    const { frame } = enter(ctx, () => {
      const raw = ctx.inputs().items;
      const items = Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw];
      return { items, idx: 0 };
    });
    const items = Array.isArray(frame.items) ? frame.items : [];
    const idx = Number(frame.idx ?? 0);
    if (idx >= items.length) return exit(ctx);
    ctx.setFrame({ items, idx: idx + 1 });
    return runBody(ctx, { item: items[idx], index: idx, total: items.length });
  },
  for: (ctx) => {
    const { frame } = enter(ctx, () => {
      const i = ctx.inputs();
      if (i.start === undefined || i.start === null || i.end === undefined || i.end === null) {
        throw new NodeDataError(`for '${ctx.node.id}': start and end are required`);
      }
      const start = toNumber(i.start, "start"), end = toNumber(i.end, "end");
      const step = i.step === undefined || i.step === null ? 1 : toNumber(i.step, "step");
      if (step === 0) throw new NodeDataError(`for '${ctx.node.id}': step must not be 0`);
      return { start, end, step, index: 0 };
    });
    const start = Number(frame.start), end = Number(frame.end), step = Number(frame.step);
    const index = Number(frame.index ?? 0);
    const i = start + index * step;
    if (step > 0 ? i >= end : i <= end) return exit(ctx);
    const total = Math.max(0, Math.ceil((end - start) / step));
    ctx.setFrame({ ...frame, index: index + 1 });
    return runBody(ctx, { i, index, total });
  },
  sequence: (ctx) => sequence(ctx, null),
  parallel: (ctx) => sequence(ctx, "completed"),
};
