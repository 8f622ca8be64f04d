/**
 * Adjusts a chat request an endpoint rejected with HTTP 400, so one bundle works across
 * OpenAI-compatible servers: newer OpenAI models refuse `max_tokens` (want `max_completion_tokens`)
 * and non-default `temperature`; some servers refuse `seed` or `response_format` (then the schema
 * becomes a plain instruction and the JSON is parsed from the text).
 */
import type { JsonObject } from "../types.ts";
import { schemaInstruction } from "./structured.ts";

export interface Adjusted {
  body: JsonObject;
  change: string;
}

export function adjustRejected(
  body: JsonObject,
  errorText: string,
  schema: JsonObject | null,
): Adjusted | null {
  const text = errorText.toLowerCase();
  if ("max_tokens" in body && text.includes("max_tokens")) {
    const { max_tokens, ...rest } = body;
    return {
      body: { ...rest, max_completion_tokens: max_tokens },
      change: "max_tokens→max_completion_tokens",
    };
  }
  for (const param of ["temperature", "seed", "stop"]) {
    if (param in body && text.includes(param)) {
      const { [param]: _dropped, ...rest } = body;
      return { body: rest, change: `dropped ${param}` };
    }
  }
  if (schema && "response_format" in body) {
    const { response_format: _dropped, ...rest } = body;
    const messages = [
      { role: "system", content: schemaInstruction(schema) },
      ...(body.messages as JsonObject[]),
    ];
    return { body: { ...rest, messages }, change: "response_format→instruction" };
  }
  return null;
}
