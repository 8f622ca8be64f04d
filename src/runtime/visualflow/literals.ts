/** Literal nodes: output pin `value` = the raw `literalValue` (§7.5 Literals). */
import type { Json } from "../types.ts";
import type { PureFn } from "./pins.ts";

const literal: PureFn = (_inputs, node) => ({ value: (node.data.literalValue ?? null) as Json });

export const LITERAL_NODES: Record<string, PureFn> = {
  literal_string: literal,
  literal_number: literal,
  literal_boolean: literal,
  literal_json: literal,
  literal_array: literal,
  json_schema: literal,
  tools_allowlist: (_inputs, node) => {
    const v = node.data.literalValue;
    return { tools: Array.isArray(v) ? (v as Json[]) : [] };
  },
};
