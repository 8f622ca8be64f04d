/** Shapes of `.flow` bundles and the registry that serves them (implementations in this folder). */
import type { JsonObject } from "../runtime/types.ts";

/** VisualFlow JSON as written by the upstream authoring tool (only the parts we read are typed). */
export interface VisualFlow {
  id: string;
  name?: string;
  description?: string;
  interfaces?: string[];
  entryNode?: string;
  nodes: VisualNode[];
  edges: VisualEdge[];
  [key: string]: unknown;
}

export interface VisualPin {
  id: string;
  label?: string;
  type?: string;
  [key: string]: unknown;
}

export interface VisualNode {
  id: string;
  type: string;
  data: {
    nodeType?: string;
    label?: string;
    inputs?: VisualPin[];
    outputs?: VisualPin[];
    pinDefaults?: JsonObject;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface VisualEdge {
  id?: string;
  source: string;
  sourceHandle?: string | null;
  target: string;
  targetHandle?: string | null;
  [key: string]: unknown;
}

export interface BundleEntrypoint {
  flow_id: string;
  name: string;
  description: string;
  interfaces: string[];
}

export interface BundleManifest {
  bundle_format_version: "1";
  bundle_id: string;
  bundle_version: string;
  created_at: string | null;
  entrypoints: BundleEntrypoint[];
  default_entrypoint: string | null;
  /** flow_id -> relative path inside the zip */
  flows: Record<string, string>;
  assets: Record<string, string>;
  metadata: JsonObject;
}

export interface LoadedBundle {
  manifest: BundleManifest;
  /** `<bundle_id>@<bundle_version>` */
  ref: string;
  /** Absolute path of the .flow file it was read from (null for in-memory bundles). */
  file: string | null;
  /** sha256 hex of the .flow file bytes. */
  sha256: string;
  /** flow_id -> VisualFlow with ids and sibling references rewritten to namespaced workflow ids. */
  flows: Record<string, VisualFlow>;
}

export interface BundleLoadError {
  file: string;
  error: string;
}

/** Read-side of the bundle host used by the HTTP API and the runtime. */
export interface BundleRegistry {
  /** Every loaded bundle version, sorted by bundle_id then version. */
  list(): LoadedBundle[];
  /** A specific version, or the latest (published preferred over drafts) when version is omitted. */
  get(bundleId: string, version?: string): LoadedBundle | undefined;
  versions(bundleId: string): LoadedBundle[];
  /** `<bundle_id>@<version>:<flow_id>`, a dynamic flow id (e.g. `scheduled:<uuid>`), or undefined. */
  getWorkflow(workflowId: string): VisualFlow | undefined;
  /** The bundle id when exactly one bundle id is loaded, else null. */
  defaultBundleId(): string | null;
  /** Bundles that failed to load at the last (re)load: reported and skipped, never fatal. */
  errors(): BundleLoadError[];
  /** Re-scan the flows dir (and dynamic flows) and swap the registry in place. */
  reload(): Promise<void>;
}

/** Write-side of the bundle host: the on-disk flows dir and the persisted dynamic flows. */
export interface BundleHost extends BundleRegistry {
  /**
   * Validates and installs `<id>@<ver>.flow` atomically, from bytes or from a file (a spooled upload, copied
   * into the flows dir); throws BundleError (400-class) on bad input.
   */
  install(bundle: Uint8Array | { path: string }, options: { overwrite: boolean }): Promise<LoadedBundle>;
  /** Deletes every file whose manifest matches id (and version); resolves with the count removed. */
  remove(bundleId: string, version?: string): Promise<number>;
  /** Persists a generated flow (e.g. `scheduled:<uuid>`) under `<data>/dynamic_flows/` and registers it. */
  saveDynamicFlow(flow: VisualFlow): Promise<void>;
  /** Persisted workflow deprecations (`<data>/workflow_deprecations.json`). */
  readonly deprecations: Deprecations;
}

export interface DeprecationRecord {
  deprecated_at: string;
  reason?: string;
}

/** Deprecated workflows are hidden from discovery and cannot be started or scheduled. */
export interface Deprecations {
  /** Marks one entrypoint (or `"*"`: the whole bundle) as deprecated; replaces an earlier record. */
  deprecate(bundleId: string, flowId: string, reason?: string): Promise<DeprecationRecord>;
  /** Resolves with true when a record was removed. */
  undeprecate(bundleId: string, flowId: string): Promise<boolean>;
  /** The flow's own record, else the whole-bundle (`"*"`) record, else null. */
  isDeprecated(bundleId: string, flowId: string): DeprecationRecord | null;
  /** Re-reads the file (another process may have changed it). */
  reload(): Promise<void>;
}

/** A bundle that cannot be read or installed; the message says what is wrong and where. */
export class BundleError extends Error {
  /** HTTP status for API callers: 400 for bad input, 413 for an oversized upload. */
  readonly status: number;
  constructor(message: string, status = 400) {
    super(message);
    this.name = "BundleError";
    this.status = status;
  }
}
