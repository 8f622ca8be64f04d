/**
 * SSE frames exactly as upstream writes them: `data:` carries JSON with Python `json.dumps`
 * spacing (`", "` and `": "`) and non-ASCII escaped as `\uXXXX`.
 */
import type { Json, StepRecord } from "../runtime/types.ts";

const encoder = new TextEncoder();

function pyString(s: string): string {
  return JSON.stringify(s).replace(
    /[\u0080-\uffff]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** `json.dumps(value)` with Python's default separators. */
export function pyJson(value: Json | undefined): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return pyString(value);
  if (typeof value === "number") return Number.isFinite(value) ? JSON.stringify(value) : "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (Array.isArray(value)) return `[${value.map(pyJson).join(", ")}]`;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (v !== undefined) parts.push(`${pyString(k)}: ${pyJson(v)}`);
  }
  return `{${parts.join(", ")}}`;
}

export const retryFrame = (ms: number): Uint8Array => encoder.encode(`retry: ${ms}\n\n`);

export const stepFrame = (cursor: number, record: StepRecord): Uint8Array =>
  encoder.encode(
    `id: ${cursor}\nevent: step\ndata: ${pyJson({ cursor, record: record as unknown as Json })}\n\n`,
  );

export const doneFrame = (runId: string, cursor: number): Uint8Array =>
  encoder.encode(`event: done\ndata: ${pyJson({ run_id: runId, cursor, status: "terminal" })}\n\n`);

export const keepAliveFrame: Uint8Array = encoder.encode(": keep-alive\n\n");

/** The run-changes stream's hint: some run was saved; re-read the list (no data, no cursor). */
export const runsChangedFrame = (changedAt: string): Uint8Array =>
  encoder.encode(`event: runs\ndata: ${pyJson({ changed_at: changedAt })}\n\n`);
