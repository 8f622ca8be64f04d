/** Structured output: schema normalisation for `response_format` and lenient JSON extraction from text. */
import type { Json, JsonObject } from "../types.ts";
import { isObject } from "../engine/json.ts";

/** Providers want an object schema at the top: other schemas become `{value: …}`. */
export function normaliseSchema(raw: Json | undefined): JsonObject | null {
  let schema = raw;
  if (typeof schema === "string") {
    try {
      schema = JSON.parse(schema) as Json;
    } catch {
      throw new Error("response_schema is a string but not valid JSON");
    }
  }
  if (!isObject(schema) || Object.keys(schema).length === 0) return null;
  // Authoring tools sometimes store {enabled, jsonSchema}.
  if (isObject(schema.jsonSchema)) schema = schema.jsonSchema;
  if (!isObject(schema)) return null;
  const isObjectSchema = schema.type === "object" ||
    (schema.type === undefined && isObject(schema.properties));
  if (isObjectSchema) return { type: "object", ...schema };
  return { type: "object", properties: { value: schema }, required: ["value"] };
}

/** OpenAI `response_format` for a schema; names must match ^[a-zA-Z0-9_-]{1,64}$. */
export function responseFormat(schema: JsonObject, name: Json | undefined): JsonObject {
  const safe = (typeof name === "string" ? name : "response").replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 64) ||
    "response";
  return { type: "json_schema", json_schema: { name: safe, schema, strict: false } };
}

/** Instruction used when the endpoint refuses `response_format`: ask for JSON in plain text. */
export function schemaInstruction(schema: JsonObject): string {
  return `Answer with a single JSON object only (no prose, no code fences) that matches this JSON schema:\n${
    JSON.stringify(schema)
  }`;
}

/**
 * Parses model text as JSON: strict first, then inside ``` fences, then the first {...} or [...]
 * span. Returns undefined when nothing parses.
 */
export function parseJsonLenient(text: string | null): Json | undefined {
  if (text === null) return undefined;
  const candidates = [text.trim()];
  const fence = text.match(/```(?:json)?\s*([\s\S]*?)```/i);
  if (fence) candidates.push(fence[1].trim());
  for (const [open, close] of [["{", "}"], ["[", "]"]]) {
    const start = text.indexOf(open);
    const end = text.lastIndexOf(close);
    if (start >= 0 && end > start) candidates.push(text.slice(start, end + 1));
  }
  for (const candidate of candidates) {
    try {
      return JSON.parse(candidate) as Json;
    } catch {
      // try the next candidate
    }
  }
  return undefined;
}

/** `data` of a structured result: objects as-is, other values wrapped `{value}`. */
export function toStructuredData(parsed: Json): JsonObject {
  return isObject(parsed) ? parsed : { value: parsed };
}
