/** Validation of a bundle's `manifest.json` (snake_case keys, camelCase aliases accepted). */
import type { JsonObject } from "../runtime/types.ts";
import { type BundleEntrypoint, BundleError, type BundleManifest } from "./types.ts";
import { isSafeRelativePath } from "./zip.ts";

const ID_RE = /^[A-Za-z0-9_-]+$/;
const VERSION_RE = /^[A-Za-z0-9_.-]+$/;

type Raw = Record<string, unknown>;

function isObject(value: unknown): value is Raw {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value under the snake_case key, else under its camelCase alias. */
function pick(obj: Raw, snake: string): unknown {
  if (obj[snake] !== undefined) return obj[snake];
  const camel = snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return obj[camel];
}

/** `s` with every run of characters outside `allowed` replaced by `_`. */
export function sanitize(s: string, allowed: RegExp): string {
  const out = [...s].map((ch) => (allowed.test(ch) ? ch : "\0")).join("").replace(/\0+/g, "_");
  return out === "" ? "_" : out;
}

export function checkBundleId(id: string): void {
  if (!ID_RE.test(id)) {
    const hint = sanitize(id, /[A-Za-z0-9_-]/);
    throw new BundleError(
      `Unsafe bundle_id ${JSON.stringify(id)}: use only letters, digits, '_' and '-' (e.g. '${hint}')`,
    );
  }
}

export function checkBundleVersion(version: string): void {
  if (!VERSION_RE.test(version)) {
    const hint = sanitize(version, /[A-Za-z0-9_.-]/);
    throw new BundleError(
      `Unsafe bundle_version ${JSON.stringify(version)}: use only letters, digits, '_', '.' and '-' ` +
        `(e.g. '${hint}')`,
    );
  }
}

function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new BundleError(`manifest.${field} must be an object of relative paths`);
  const out: Record<string, string> = {};
  for (const [key, path] of Object.entries(value)) {
    if (typeof path !== "string" || !isSafeRelativePath(path)) {
      throw new BundleError(
        `manifest.${field}[${JSON.stringify(key)}] has an unsafe path ${JSON.stringify(path)} ` +
          `(must be relative, without '..', '.' or a drive prefix)`,
      );
    }
    out[key] = path;
  }
  return out;
}

function entrypoint(raw: unknown, index: number): BundleEntrypoint {
  if (!isObject(raw)) throw new BundleError(`manifest.entrypoints[${index}] must be an object`);
  const flowId = pick(raw, "flow_id");
  if (typeof flowId !== "string" || flowId.trim() === "") {
    throw new BundleError(`manifest.entrypoints[${index}].flow_id must be a non-empty string`);
  }
  const name = pick(raw, "name");
  const description = pick(raw, "description");
  const interfaces = pick(raw, "interfaces") ?? [];
  if (!Array.isArray(interfaces) || !interfaces.every((i) => typeof i === "string")) {
    throw new BundleError(`manifest.entrypoints[${index}].interfaces must be a list of strings`);
  }
  return {
    flow_id: flowId,
    name: typeof name === "string" && name !== "" ? name : flowId,
    description: typeof description === "string" ? description : "",
    interfaces: interfaces as string[],
  };
}

/** Parses and validates manifest.json bytes; throws BundleError saying what is wrong. */
export function parseManifest(bytes: Uint8Array): BundleManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new BundleError(`manifest.json is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(raw)) throw new BundleError("manifest.json must be a JSON object");

  const format = pick(raw, "bundle_format_version");
  if (String(format) !== "1") {
    throw new BundleError(
      `Unsupported bundle_format_version ${JSON.stringify(format ?? null)} (expected "1")`,
    );
  }
  const id = pick(raw, "bundle_id");
  if (typeof id !== "string" || id.trim() === "") {
    throw new BundleError("manifest.bundle_id is missing or empty");
  }
  checkBundleId(id);
  const versionRaw = pick(raw, "bundle_version");
  const version = versionRaw === undefined || versionRaw === null || versionRaw === "" ? "0.0.0" : versionRaw;
  if (typeof version !== "string") throw new BundleError("manifest.bundle_version must be a string");
  checkBundleVersion(version);

  const eps = pick(raw, "entrypoints");
  if (!Array.isArray(eps) || eps.length === 0) {
    throw new BundleError("manifest.entrypoints must be a non-empty list");
  }
  const entrypoints = eps.map(entrypoint);
  const seen = new Set<string>();
  for (const ep of entrypoints) {
    if (seen.has(ep.flow_id)) throw new BundleError(`Duplicate entrypoint flow_id '${ep.flow_id}'`);
    seen.add(ep.flow_id);
  }
  const defaultRaw = pick(raw, "default_entrypoint");
  if (defaultRaw !== undefined && defaultRaw !== null && typeof defaultRaw !== "string") {
    throw new BundleError("manifest.default_entrypoint must be a string");
  }
  const defaultEntrypoint = defaultRaw ? defaultRaw : null;
  if (defaultEntrypoint !== null && !seen.has(defaultEntrypoint)) {
    throw new BundleError(`default_entrypoint '${defaultEntrypoint}' is not one of the entrypoints`);
  }

  const flows = stringMap(pick(raw, "flows"), "flows");
  if (Object.keys(flows).length === 0) throw new BundleError("manifest.flows is empty");
  for (const ep of entrypoints) {
    if (!(ep.flow_id in flows)) {
      throw new BundleError(`Entrypoint flow '${ep.flow_id}' is missing from manifest.flows`);
    }
  }
  const assets = {
    ...stringMap(pick(raw, "artifacts"), "artifacts"),
    ...stringMap(pick(raw, "assets"), "assets"),
  };
  const metadata = pick(raw, "metadata") ?? {};
  if (!isObject(metadata)) throw new BundleError("manifest.metadata must be an object");
  const createdAt = pick(raw, "created_at");

  return {
    bundle_format_version: "1",
    bundle_id: id,
    bundle_version: version,
    created_at: typeof createdAt === "string" && createdAt !== "" ? createdAt : null,
    entrypoints,
    default_entrypoint: defaultEntrypoint,
    flows,
    assets,
    metadata: metadata as JsonObject,
  };
}
