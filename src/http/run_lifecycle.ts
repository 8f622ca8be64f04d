/** `run_lifecycle` sanitisation (§3.5): only known string fields and a well-formed `retention`. */
import type { Json, JsonObject } from "../runtime/types.ts";

const STRING_FIELDS = [
  "source",
  "purpose",
  "visibility",
  "run_mode",
  "editor_session_id",
  "flow_id",
  "bundle_id",
  "bundle_version",
];

function cleanString(v: unknown): string | null {
  if (typeof v !== "string") return null;
  const s = v.trim();
  return s && s.length <= 240 ? s : null;
}

function retention(v: unknown): JsonObject | null {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return null;
  const r = v as Record<string, unknown>;
  const out: JsonObject = {};
  const mode = cleanString(r.mode);
  if (mode) out.mode = mode;
  const expires = cleanString(r.expires_at);
  if (expires) out.expires_at = expires;
  const ttl = typeof r.ttl_s === "string" && /^\s*\d+\s*$/.test(r.ttl_s) ? Number(r.ttl_s) : r.ttl_s;
  if (typeof ttl === "number" && Number.isInteger(ttl) && ttl > 0) out.ttl_s = ttl;
  return Object.keys(out).length ? out : null;
}

/** The sanitised lifecycle object, or null when nothing valid remains. */
export function sanitizeRunLifecycle(v: Json | undefined | unknown): JsonObject | null {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return null;
  const src = v as Record<string, unknown>;
  const out: JsonObject = {};
  for (const key of STRING_FIELDS) {
    const s = cleanString(src[key]);
    if (s) out[key] = s;
  }
  const r = retention(src.retention);
  if (r) out.retention = r;
  return Object.keys(out).length ? out : null;
}
