/**
 * Effect idempotency keys (runtime-model.md §1.7): first 32 hex of sha256 over the canonical JSON of
 * `{run_id, node_id, effect_type, effect_payload}`. Canonical = sorted keys, compact separators,
 * non-ASCII escaped as \uXXXX (the upstream encoder's defaults).
 */
import { randomUUID } from "node:crypto";
import { sha256Hex } from "../../util/hash.ts";
import type { Effect, Json, JsonObject } from "../types.ts";
import { isObject } from "./json.ts";

export function canonicalJson(value: Json | undefined): string {
  if (value === undefined || value === null) return "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return `{${keys.map((k) => `${asciiString(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  if (typeof value === "string") return asciiString(value);
  return JSON.stringify(value);
}

function asciiString(s: string): string {
  return JSON.stringify(s).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

const TOOL_CALL_ID_KEYS = ["call_id", "id", "runtime_call_id", "model_call_id", "idempotency_key"];

/** TOOL_CALLS payloads are normalised so provider-assigned call ids do not change the key. */
function normaliseToolCalls(payload: JsonObject): JsonObject {
  const out: JsonObject = { ...payload };
  if (Array.isArray(payload.tool_calls)) {
    out.tool_calls = payload.tool_calls.map((call) => {
      if (!isObject(call)) return call;
      const c: JsonObject = {};
      for (const [k, v] of Object.entries(call)) if (!TOOL_CALL_ID_KEYS.includes(k)) c[k] = v;
      if (typeof c.name === "string") c.name = c.name.trim();
      if (typeof c.arguments === "string") {
        try {
          c.arguments = JSON.parse(c.arguments);
        } catch {
          // keep unparseable argument strings verbatim
        }
      }
      return c;
    });
  }
  if (Array.isArray(payload.allowed_tools)) {
    out.allowed_tools = [...new Set(payload.allowed_tools.map(String))].sort();
  }
  return out;
}

export function idempotencyKey(runId: string, nodeId: string, effect: Effect): string {
  const payload = effect.type === "tool_calls" ? normaliseToolCalls(effect.payload) : effect.payload;
  const text = canonicalJson({
    run_id: runId,
    node_id: nodeId,
    effect_type: effect.type,
    effect_payload: payload,
  });
  return sha256Hex(text).slice(0, 32);
}

/** A UUID-shaped id derived from `seed`, so a re-executed interrupted step reuses the same child run id. */
export function deterministicUuid(seed: string): string {
  const h = sha256Hex(seed).slice(0, 32).split("");
  h[12] = "4";
  h[16] = "89ab"[parseInt(h[16], 16) % 4];
  const s = h.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

export const newId = (): string => randomUUID();
