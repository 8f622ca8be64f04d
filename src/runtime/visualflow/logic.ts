/** Logic nodes: compare (Python semantics), not, and, or, coalesce. */
import type { Json, JsonObject } from "../types.ts";
import type { PureFn } from "./pins.ts";
import { pyEquals, pyOrder, pyStr, truthy } from "./py.ts";

function compare(a: Json | undefined, b: Json | undefined, op: string): boolean {
  if (op === "==") return pyEquals(a, b);
  if (op === "!=") return !pyEquals(a, b);
  const order = pyOrder(a, b);
  if (order === null) {
    if (["<", "<=", ">", ">="].includes(op)) return false; // incomparable types: false, as upstream
  } else {
    if (op === "<") return order < 0;
    if (op === "<=") return order <= 0;
    if (op === ">") return order > 0;
    if (op === ">=") return order >= 0;
  }
  throw new Error(`unknown compare operator '${op}'`);
}

export const LOGIC_NODES: Record<string, PureFn> = {
  // `str(inputs.get("op", "=="))`: only an unset op defaults; "" or null is an unknown operator
  compare: (i: JsonObject) => ({ result: compare(i.a, i.b, i.op === undefined ? "==" : pyStr(i.op)) }),
  not: (i) => ({ result: !truthy(i.value) }),
  and: (i) => ({ result: truthy(i.a) && truthy(i.b) }),
  or: (i) => ({ result: truthy(i.a) || truthy(i.b) }),
  coalesce: (i, node) => {
    const order = node.inputs.filter((p) => p.type !== "execution").map((p) => p.id);
    const first = order.map((p) => i[p]).find((v) => v !== undefined && v !== null);
    return { result: first ?? null };
  },
};
