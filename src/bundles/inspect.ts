/** JSON views of bundles and flows served by the bundles routes (gateway contract §3.4). */
import type { Json, JsonObject } from "../runtime/types.ts";
import { nodeTypeOf } from "./namespace.ts";
import type {
  BundleEntrypoint,
  BundleRegistry,
  Deprecations,
  LoadedBundle,
  VisualFlow,
  VisualNode,
} from "./types.ts";
import { isDraftVersion, latestPublished, newestOf, versionChannel } from "./versions.ts";

export interface EntrypointInput {
  id: string;
  label: string;
  type: string;
  schema?: JsonObject;
  default?: Json;
}

/** The flow's start node: `entryNode` when it is an on_flow_start, else the first on_flow_start. */
function startNode(flow: VisualFlow): VisualNode | undefined {
  const starts = flow.nodes.filter((n) => nodeTypeOf(n) === "on_flow_start");
  return starts.find((n) => n.id === flow.entryNode) ?? starts[0];
}

const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

/** The on_flow_start node's non-execution output pins, with defaults from `data.pinDefaults`. */
export function entrypointInputs(flow: VisualFlow): EntrypointInput[] {
  const start = startNode(flow);
  if (!start) return [];
  const defaults = isObject(start.data.pinDefaults) ? start.data.pinDefaults : {};
  const out: EntrypointInput[] = [];
  for (const pin of start.data.outputs ?? []) {
    if (typeof pin?.id !== "string" || pin.type === "execution") continue;
    const input: EntrypointInput = {
      id: pin.id,
      label: typeof pin.label === "string" && pin.label !== "" ? pin.label : pin.id,
      type: typeof pin.type === "string" ? pin.type : "any",
    };
    if (isObject(pin.schema)) input.schema = pin.schema;
    if (pin.id in defaults) input.default = defaults[pin.id];
    out.push(input);
  }
  return out;
}

export interface NodeIndexEntry {
  type: string;
  label: string;
  headerColor?: string;
}

/** `{node_id: {type, label, headerColor?}}` for every node of the flow. */
export function nodeIndex(flow: VisualFlow): Record<string, NodeIndexEntry> {
  const index: Record<string, NodeIndexEntry> = {};
  for (const node of flow.nodes) {
    const type = nodeTypeOf(node);
    const label = typeof node.data.label === "string" && node.data.label !== "" ? node.data.label : type;
    const entry: NodeIndexEntry = { type, label };
    if (typeof node.data.headerColor === "string" && node.data.headerColor !== "") {
      entry.headerColor = node.data.headerColor;
    }
    index[node.id] = entry;
  }
  return index;
}

const STRING_TYPES = new Set([
  "string",
  "text",
  "markdown",
  "path",
  "file",
  "directory",
  "folder",
  "provider",
  "model",
  "prompt",
  "url",
  "uri",
  "email",
  "date",
  "datetime",
  "time",
  "code",
  "voice",
  "language",
]);

const ARTIFACT_SCHEMA: JsonObject = {
  type: "object",
  properties: { $artifact: { type: "string" } },
  required: ["$artifact"],
  additionalProperties: true,
};

/** JSON Schema for a pin type; always tagged with `x-abstract-type`. */
export function pinTypeSchema(rawType: string): JsonObject {
  const t = rawType.toLowerCase();
  let schema: JsonObject;
  if (t.startsWith("artifacts")) schema = { type: "array", items: ARTIFACT_SCHEMA };
  else if (t.startsWith("artifact")) schema = { ...ARTIFACT_SCHEMA };
  else if (STRING_TYPES.has(t) || t.startsWith("provider")) schema = { type: "string" };
  else if (t === "number" || t === "float" || t === "double") schema = { type: "number" };
  else if (t === "integer" || t === "int") schema = { type: "integer" };
  else if (t === "boolean" || t === "bool") schema = { type: "boolean" };
  else if (t === "array" || t === "list") schema = { type: "array" };
  else if (t === "tools") schema = { type: "array", items: { type: "string" } };
  else if (t === "object" || t === "dict" || t === "map" || t === "json") schema = { type: "object" };
  else schema = {};
  return { ...schema, "x-abstract-type": rawType };
}

export interface InputSchema {
  version: 1;
  inputs: (EntrypointInput & { required: boolean; schema: JsonObject })[];
  defaults: JsonObject;
  input_data_schema: {
    type: "object";
    additionalProperties: true;
    properties: Record<string, JsonObject>;
    required?: string[];
  };
}

/** The input form of a flow: its start pins as JSON Schema (pins without a default are required). */
export function inputSchema(flow: VisualFlow): InputSchema {
  const inputs: InputSchema["inputs"] = [];
  const defaults: JsonObject = {};
  const properties: Record<string, JsonObject> = {};
  const required: string[] = [];
  for (const pin of entrypointInputs(flow)) {
    const schema: JsonObject = { ...pinTypeSchema(pin.type), ...(pin.schema ?? {}), title: pin.label };
    const hasDefault = pin.default !== undefined;
    if (hasDefault) {
      defaults[pin.id] = pin.default as Json;
      schema.default = pin.default as Json;
    } else {
      required.push(pin.id);
    }
    inputs.push({ ...pin, required: !hasDefault, schema });
    properties[pin.id] = schema;
  }
  const input_data_schema: InputSchema["input_data_schema"] = {
    type: "object",
    additionalProperties: true,
    properties,
  };
  if (required.length > 0) input_data_schema.required = required;
  return { version: 1, inputs, defaults, input_data_schema };
}

export interface EntrypointView extends BundleEntrypoint {
  workflow_id: string;
  deprecated: boolean;
  deprecated_at: string | null;
  deprecated_reason: string | null;
}

function entrypointView(
  bundle: LoadedBundle,
  ep: BundleEntrypoint,
  deprecations: Deprecations,
): EntrypointView {
  const rec = deprecations.isDeprecated(bundle.manifest.bundle_id, ep.flow_id);
  return {
    flow_id: ep.flow_id,
    name: ep.name,
    description: ep.description,
    interfaces: [...ep.interfaces],
    workflow_id: `${bundle.ref}:${ep.flow_id}`,
    deprecated: rec !== null,
    deprecated_at: rec?.deprecated_at ?? null,
    deprecated_reason: rec?.reason ?? null,
  };
}

export interface LatestInfo {
  latest_published_version: string | null;
  latest_any_version: string | null;
}

export function latestInfo(versions: readonly LoadedBundle[]): LatestInfo {
  return {
    latest_published_version: latestPublished(versions)?.manifest.bundle_version ?? null,
    latest_any_version: newestOf(versions)?.manifest.bundle_version ?? null,
  };
}

export const BUNDLE_ACTIONS = {
  can_run: true,
  can_upload: true,
  can_remove: true,
  can_deprecate: true,
  // Upstream names a catalog-promotion route; we have none, so we advertise none (null, not a 404).
  catalog_promote_endpoint: null,
} as const;

/**
 * One item of `GET /api/gateway/bundles`; null when every entrypoint is deprecated and
 * deprecated ones are not requested (the row is then omitted).
 */
export function bundleListItem(
  bundle: LoadedBundle,
  latest: LatestInfo,
  deprecations: Deprecations,
  options: { includeDeprecated: boolean } = { includeDeprecated: false },
): JsonObject | null {
  const m = bundle.manifest;
  const entrypoints = m.entrypoints
    .map((ep) => entrypointView(bundle, ep, deprecations))
    .filter((ep) => options.includeDeprecated || !ep.deprecated);
  if (entrypoints.length === 0) return null;
  const draft = isDraftVersion(m.bundle_version);
  return {
    bundle_id: m.bundle_id,
    bundle_version: m.bundle_version,
    bundle_ref: bundle.ref,
    registry_scope: "private",
    version_channel: versionChannel(m.bundle_version),
    is_draft: draft,
    is_published: !draft,
    latest_published_version: latest.latest_published_version,
    latest_any_version: latest.latest_any_version,
    created_at: m.created_at,
    metadata: m.metadata,
    default_entrypoint: m.default_entrypoint,
    entrypoints: entrypoints as unknown as Json[],
    actions: { ...BUNDLE_ACTIONS },
  };
}

/** The body of `GET /api/gateway/bundles/{bundle_id}`. */
export function bundleDetail(bundle: LoadedBundle, deprecations: Deprecations): JsonObject {
  const m = bundle.manifest;
  const entrypoints = m.entrypoints.map((ep) => {
    const view = entrypointView(bundle, ep, deprecations);
    const flow = bundle.flows[ep.flow_id];
    return {
      flow_id: view.flow_id,
      workflow_id: view.workflow_id,
      name: view.name,
      description: view.description,
      interfaces: view.interfaces,
      inputs: flow ? entrypointInputs(flow) : [],
      node_index: flow ? nodeIndex(flow) : {},
      deprecated: view.deprecated,
      deprecated_at: view.deprecated_at,
      deprecated_reason: view.deprecated_reason,
    };
  });
  return {
    bundle_id: m.bundle_id,
    bundle_version: m.bundle_version,
    bundle_ref: bundle.ref,
    created_at: m.created_at,
    default_entrypoint: m.default_entrypoint,
    entrypoints: entrypoints as unknown as Json[],
    flows: Object.keys(bundle.flows).sort(),
    metadata: m.metadata,
  };
}

export interface BundleListQuery {
  allVersions: boolean;
  includeDrafts: boolean;
  includeDeprecated: boolean;
}

/**
 * The body of `GET /api/gateway/bundles`: per bundle id (sorted) the latest published row (or,
 * with drafts included and nothing published, the latest of any), or every version with
 * `allVersions`; drafts only with `includeDrafts`.
 */
export function bundleList(
  registry: BundleRegistry,
  deprecations: Deprecations,
  query: BundleListQuery,
): { items: JsonObject[]; default_bundle_id: string | null } {
  const ids = [...new Set(registry.list().map((b) => b.manifest.bundle_id))].sort();
  const items: JsonObject[] = [];
  for (const id of ids) {
    const versions = registry.versions(id);
    const latest = latestInfo(versions);
    const visible = (b: LoadedBundle) => query.includeDrafts || !isDraftVersion(b.manifest.bundle_version);
    const rows = query.allVersions
      ? versions.filter(visible)
      : [latestPublished(versions) ?? (query.includeDrafts ? newestOf(versions) : undefined)];
    for (const b of rows) {
      const item = b &&
        bundleListItem(b, latest, deprecations, { includeDeprecated: query.includeDeprecated });
      if (item) items.push(item);
    }
  }
  let defaultId = registry.defaultBundleId();
  if (defaultId !== null && !query.includeDeprecated && !items.some((i) => i.bundle_id === defaultId)) {
    defaultId = null;
  }
  return { items, default_bundle_id: defaultId };
}
