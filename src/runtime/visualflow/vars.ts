/** Variable nodes: get_var / get_context / bool_var (pure) and set_var / set_var_property / set_vars / add_message. */
import type { Json, JsonObject, RunState } from "../types.ts";
import { nowIso } from "../../util/time.ts";
import { getPath, isObject, objectAt, setPath } from "../engine/json.ts";
import { newId } from "../engine/idempotency.ts";
import type { ExecContext } from "./exec_context.ts";
import type { ExecFn } from "./families.ts";
import { NodeDataError } from "./families.ts";
import type { FlowNode } from "./graph.ts";
import type { PureFn } from "./pins.ts";

const TYPE_DEFAULTS: Record<string, Json> = { boolean: false, number: 0, string: "" };

function varName(value: Json | undefined, node: FlowNode): string {
  const name = typeof value === "string" ? value.trim() : "";
  if (!name) throw new NodeDataError(`${node.type} '${node.id}': variable name is empty`);
  if (name.startsWith("_")) {
    throw new NodeDataError(`${node.type} '${node.id}': variable '${name}' is reserved`);
  }
  return name;
}

function typedRead(run: RunState, node: FlowNode): JsonObject {
  const cfg = isObject(node.data.literalValue as Json) ? node.data.literalValue as JsonObject : {};
  const name = typeof cfg.name === "string" ? cfg.name : "";
  const v = name ? getPath(run.vars, name) : undefined;
  return { value: v === undefined ? (cfg.default ?? null) : v, name };
}

/** Pass-through state nodes: they keep `_last_output` untouched and continue. */
function passThrough(ctx: ExecContext, output: JsonObject) {
  ctx.setOutputs(output, { lastOutput: false });
  return ctx.continueOr("exec-out", { ...output, success: true });
}

export const VAR_PURE_NODES: Record<string, PureFn> = {
  get_var: (i, _node, run) => ({
    value: getPath(run.vars, typeof i.name === "string" ? i.name : "") ?? null,
  }),
  get_context: (_i, _node, run) => {
    const c = isObject(run.vars.context) ? run.vars.context : {};
    return { context: c, task: c.task ?? null, messages: Array.isArray(c.messages) ? c.messages : [] };
  },
  bool_var: (_i, node, run) => typedRead(run, node),
  var_decl: (_i, node, run) => typedRead(run, node),
};

export const VAR_EXEC_NODES: Record<string, ExecFn> = {
  set_var: (ctx) => {
    const i = ctx.inputs();
    const name = varName(i.name, ctx.node);
    const pinType = ctx.node.inputs.find((p) => p.id === "value")?.type ?? "any";
    const value = i.value !== undefined ? i.value : (TYPE_DEFAULTS[pinType] ?? null);
    setPath(ctx.vars, name, structuredClone(value));
    return passThrough(ctx, { value });
  },
  set_var_property: (ctx) => {
    const i = ctx.inputs();
    const name = varName(i.name, ctx.node);
    const key = typeof i.key === "string" ? i.key : "";
    if (!key) throw new NodeDataError(`set_var_property '${ctx.node.id}': key is empty`);
    const target = objectAt(ctx.vars, name);
    setPath(target, key, structuredClone(i.value ?? null));
    return passThrough(ctx, { value: target });
  },
  set_vars: (ctx) => {
    const updates = ctx.inputs().updates;
    if (!isObject(updates)) throw new NodeDataError(`set_vars '${ctx.node.id}': updates must be an object`);
    for (const [path, value] of Object.entries(updates)) {
      setPath(ctx.vars, varName(path, ctx.node), structuredClone(value));
    }
    return passThrough(ctx, { updates });
  },
  add_message: (ctx) => {
    const i = ctx.inputs();
    const messages = objectAt(ctx.vars, "context");
    const list = Array.isArray(messages.messages) ? messages.messages : [];
    const message: JsonObject = {
      role: typeof i.role === "string" ? i.role : "user",
      content: i.content ?? "",
      timestamp: nowIso(),
      metadata: { message_id: `msg_${newId().replaceAll("-", "")}` },
    };
    list.push(message);
    messages.messages = list;
    return passThrough(ctx, { message });
  },
};
