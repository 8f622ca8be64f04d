/** Normalises tool calls and runs them one by one; every failure becomes an error result, never a throw. */
import type { Json, JsonObject } from "../../types.ts";
import { getTool } from "./registry.ts";
import { type ToolContext, ToolError } from "./types.ts";
import { isObject } from "../../engine/json.ts";

export interface ToolCall {
  name: string;
  arguments: JsonObject;
  call_id: string;
  runtime_call_id: string;
  /** Set when the call cannot run at all (malformed call or arguments). */
  invalid?: string;
}

/** Gives every call `runtime_call_id = rtcall_<idem>_<n>` and a `call_id` (provider id kept). */
export function normaliseCalls(raw: Json | undefined, idempotencyKey: string): ToolCall[] {
  const list = Array.isArray(raw) ? raw : [];
  return list.map((item, index) => {
    const runtime_call_id = `rtcall_${idempotencyKey}_${index + 1}`;
    if (!isObject(item)) {
      return {
        name: "",
        arguments: {},
        call_id: runtime_call_id,
        runtime_call_id,
        invalid: "Tool call is not an object",
      };
    }
    const fn = isObject(item.function) ? item.function : item;
    const name = typeof fn.name === "string" ? fn.name.trim() : "";
    const id = item.call_id ?? item.id;
    const call_id = typeof id === "string" && id ? id : runtime_call_id;
    const call: ToolCall = { name, arguments: {}, call_id, runtime_call_id };
    const args = fn.arguments;
    if (typeof args === "string") {
      try {
        const parsed = args.trim() ? JSON.parse(args) : {};
        if (isObject(parsed)) call.arguments = parsed;
        else call.invalid = "Tool call arguments must be a JSON object";
      } catch {
        call.invalid = `Tool call arguments are not valid JSON: ${args.slice(0, 200)}`;
      }
    } else if (isObject(args)) {
      call.arguments = args;
    } else if (args !== undefined && args !== null) {
      call.invalid = "Tool call arguments must be a JSON object";
    }
    if (!name) call.invalid ??= "Tool call has no name";
    return call;
  });
}

/** Why a call cannot run, or null when it can (malformed, unknown, not allowlisted, unavailable here). */
export function refusal(
  call: ToolCall,
  allowed: ReadonlySet<string> | null,
  ctx: ToolContext,
): string | null {
  if (call.invalid) return call.invalid;
  const tool = getTool(call.name);
  if (!tool) return `Unknown tool: ${call.name}`;
  if (allowed && !allowed.has(call.name)) return `Tool "${call.name}" is not in this node's allowed tools`;
  return tool.unavailable?.(ctx) ?? null;
}

export function resultItem(call: ToolCall, success: boolean, output: Json, error: string | null): JsonObject {
  return {
    call_id: call.call_id,
    runtime_call_id: call.runtime_call_id,
    name: call.name,
    success,
    output,
    error,
  };
}

export async function runCall(
  call: ToolCall,
  allowed: ReadonlySet<string> | null,
  ctx: ToolContext,
): Promise<JsonObject> {
  const refused = refusal(call, allowed, ctx);
  if (refused) return resultItem(call, false, null, refused);
  try {
    const output = await getTool(call.name)!.run(call.arguments, ctx);
    return resultItem(call, true, output, null);
  } catch (error) {
    if (error instanceof ToolError) return resultItem(call, false, error.output, error.message);
    if (error instanceof Deno.errors.NotCapable) {
      return resultItem(call, false, null, `Refused by the gateway's permission sandbox: ${error.message}`);
    }
    return resultItem(
      call,
      false,
      null,
      `${call.name} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** The upstream tool-results envelope. */
export const executedEnvelope = (results: JsonObject[]): JsonObject => ({ mode: "executed", results });
