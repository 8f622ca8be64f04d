/** Workflow selection for `POST /runs/start` (gateway contract §3.5 step 8). */
import type { BundleRegistry, Deprecations, LoadedBundle } from "./types.ts";

/** A start request that cannot be resolved; `status` is the HTTP status, `message` the detail. */
export class StartTargetError extends Error {
  constructor(readonly status: 400 | 404 | 409, message: string) {
    super(message);
    this.name = "StartTargetError";
  }
}

export interface StartTargetRequest {
  bundle_id?: string | null;
  bundle_version?: string | null;
  flow_id?: string | null;
}

export interface StartTarget {
  workflowId: string;
  /** The bundle the workflow belongs to, or null for a dynamic workflow id (e.g. `scheduled:…`). */
  bundle: LoadedBundle | null;
  flowId: string;
}

const START_PREFIX = "Failed to start run: ";

function clean(value: string | null | undefined): string | undefined {
  const v = value?.trim();
  return v ? v : undefined;
}

/** Splits `id@ver` at the first `@`. */
function splitRef(ref: string): { id: string; version?: string } {
  const at = ref.indexOf("@");
  return at < 0 ? { id: ref } : { id: ref.slice(0, at), version: ref.slice(at + 1) || undefined };
}

function pickEntrypoint(bundle: LoadedBundle): string {
  const m = bundle.manifest;
  if (m.entrypoints.length === 1) return m.entrypoints[0].flow_id;
  if (m.default_entrypoint) return m.default_entrypoint;
  const ids = m.entrypoints.map((e) => e.flow_id).join(", ");
  throw new StartTargetError(
    400,
    `${START_PREFIX}Bundle '${bundle.ref}' has ${m.entrypoints.length} entrypoints; specify flow_id ` +
      `(one of: ${ids}) (or set manifest.default_entrypoint)`,
  );
}

/**
 * Resolves which workflow a start request runs. Errors carry the HTTP status: 404 for unknown
 * bundles/versions/workflows, 409 for deprecated workflows, 400 otherwise.
 */
export function resolveStartTarget(
  registry: BundleRegistry & { readonly deprecations?: Deprecations },
  request: StartTargetRequest,
): StartTarget {
  const flowIdIn = clean(request.flow_id);
  const bundleIdIn = clean(request.bundle_id);
  let version = clean(request.bundle_version);
  if (!flowIdIn && !bundleIdIn) {
    throw new StartTargetError(
      400,
      "flow_id is required (or provide bundle_id to start a bundle entrypoint)",
    );
  }
  let bundleId: string | undefined;
  if (bundleIdIn) {
    const ref = splitRef(bundleIdIn);
    if (ref.version && version && ref.version !== version) {
      throw new StartTargetError(
        400,
        "bundle_version conflicts with bundle_id (bundle_id already includes '@version')",
      );
    }
    bundleId = ref.id;
    version = ref.version ?? version;
  }

  let flowId = flowIdIn;
  const colon = flowIdIn?.indexOf(":") ?? -1;
  if (flowIdIn && colon > 0) {
    const prefix = splitRef(flowIdIn.slice(0, colon));
    if (registry.versions(prefix.id).length === 0) {
      // Not a bundle prefix: a verbatim workflow id such as `scheduled:<uuid>`.
      if (bundleIdIn || version) {
        throw new StartTargetError(
          400,
          `flow_id '${flowIdIn}' is a workflow id and cannot be combined with bundle_id/bundle_version`,
        );
      }
      if (!registry.getWorkflow(flowIdIn)) {
        throw new StartTargetError(404, `Workflow '${flowIdIn}' not found`);
      }
      return { workflowId: flowIdIn, bundle: null, flowId: flowIdIn };
    }
    if (bundleId && bundleId !== prefix.id) {
      throw new StartTargetError(400, "flow_id bundle prefix does not match bundle_id");
    }
    if (prefix.version && version && prefix.version !== version) {
      throw new StartTargetError(400, "flow_id version conflicts with bundle_version");
    }
    bundleId = prefix.id;
    version = prefix.version ?? version;
    flowId = flowIdIn.slice(colon + 1);
  }

  bundleId ??= registry.defaultBundleId() ?? undefined;
  if (!bundleId) {
    throw new StartTargetError(
      400,
      `${START_PREFIX}bundle_id is required when multiple bundles are loaded (or no bundle is loaded)`,
    );
  }
  const bundle = registry.get(bundleId, version);
  if (!bundle) {
    throw new StartTargetError(
      404,
      version ? `Bundle '${bundleId}@${version}' not found` : `Bundle '${bundleId}' not found`,
    );
  }
  flowId ??= pickEntrypoint(bundle);
  const workflowId = `${bundle.ref}:${flowId}`;
  if (!bundle.flows[flowId]) throw new StartTargetError(404, `Workflow '${workflowId}' not found`);
  const deprecated = registry.deprecations?.isDeprecated(bundle.manifest.bundle_id, flowId);
  if (deprecated) {
    const reason = deprecated.reason ? `: ${deprecated.reason}` : "";
    throw new StartTargetError(
      409,
      `Workflow '${bundle.manifest.bundle_id}:${flowId}' is deprecated${reason}`,
    );
  }
  return { workflowId, bundle, flowId };
}
