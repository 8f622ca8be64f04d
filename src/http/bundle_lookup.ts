/** Path-parameter resolution shared by the bundle routes: `id` / `id@ver` and `bundle[@ver]:flow`. */
import type { BundleRegistry, LoadedBundle, VisualFlow } from "../bundles/types.ts";
import type { JsonObject } from "../runtime/types.ts";
import { HttpError } from "./errors.ts";

function splitRef(ref: string): { id: string; version?: string } {
  const at = ref.indexOf("@");
  return at < 0 ? { id: ref } : { id: ref.slice(0, at), version: ref.slice(at + 1) || undefined };
}

/** The bundle named by `bundle_id` (`id` or `id@ver`) and an optional `bundle_version` query. */
export function lookupBundle(
  registry: BundleRegistry,
  bundleIdParam: string,
  versionQuery?: string,
): LoadedBundle {
  const ref = splitRef(bundleIdParam.trim());
  const query = versionQuery?.trim() || undefined;
  if (ref.version && query && ref.version !== query) {
    throw new HttpError(
      400,
      "bundle_version conflicts with bundle_id (bundle_id already includes '@version')",
    );
  }
  const version = ref.version ?? query;
  const bundle = registry.get(ref.id, version);
  if (!bundle) {
    throw new HttpError(
      404,
      version ? `Bundle '${ref.id}@${version}' not found` : `Bundle '${ref.id}' not found`,
    );
  }
  return bundle;
}

export interface FlowLookup {
  bundle: LoadedBundle;
  flowId: string;
  flow: VisualFlow;
}

/** Resolves `flow_id` (plain, or `bundle[@ver]:flow` whose prefix must agree with the bundle). */
export function lookupFlow(
  registry: BundleRegistry,
  bundleIdParam: string,
  flowIdParam: string,
  versionQuery?: string,
): FlowLookup {
  let flowId = flowIdParam.trim();
  let bundleParam = bundleIdParam.trim();
  const colon = flowId.indexOf(":");
  if (colon > 0) {
    const prefix = splitRef(flowId.slice(0, colon));
    const outer = splitRef(bundleParam);
    if (prefix.id !== outer.id) throw new HttpError(400, "flow_id bundle prefix does not match bundle_id");
    const versions = [prefix.version, outer.version, versionQuery?.trim() || undefined].filter((v) => v);
    if (new Set(versions).size > 1) throw new HttpError(400, "flow_id version conflicts with bundle_version");
    if (prefix.version && !outer.version) bundleParam = `${outer.id}@${prefix.version}`;
    flowId = flowId.slice(colon + 1);
  }
  const bundle = lookupBundle(registry, bundleParam, versionQuery);
  const flow = bundle.flows[flowId];
  if (!flow) throw new HttpError(404, `Flow '${flowId}' not found in bundle '${bundle.ref}'`);
  return { bundle, flowId, flow };
}

export function flowBody({ bundle, flowId, flow }: FlowLookup): JsonObject {
  return {
    bundle_id: bundle.manifest.bundle_id,
    bundle_version: bundle.manifest.bundle_version,
    bundle_ref: bundle.ref,
    flow_id: flowId,
    workflow_id: `${bundle.ref}:${flowId}`,
    flow: flow as unknown as JsonObject,
  };
}
