/** Reads a `.flow` bundle (zip bytes) into a validated, namespaced LoadedBundle. */
import { parseVisualFlow } from "./flow.ts";
import { parseManifest } from "./manifest.ts";
import { namespaceFlow, workflowIdOf } from "./namespace.ts";
import { BundleError, type BundleManifest, type LoadedBundle, type VisualFlow } from "./types.ts";
import { DEFAULT_ZIP_LIMITS, type ZipLimits } from "./zip.ts";
import {
  type AsyncSafeZip,
  bytesSource,
  openSafeZipStream,
  sha256Source,
  type ZipSource,
} from "./zip_stream.ts";

export type ReadOptions = Partial<ZipLimits>;

const MANIFEST = "manifest.json";

function requireManifest(names: ReadonlySet<string>): void {
  if (!names.has(MANIFEST)) throw new BundleError("Bundle has no manifest.json at the archive root");
}

function parseFlow(flowId: string, path: string, bytes: Uint8Array | undefined): VisualFlow {
  if (bytes === undefined) throw new BundleError(`Flow '${flowId}' file ${JSON.stringify(path)} is missing`);
  return parseVisualFlow(bytes, `Flow '${flowId}' (${path})`);
}

/**
 * Maps every name a sibling may be referenced by (manifest key, and the flow's own `id` when it
 * differs) to its namespaced id; two flows answering to the same name is an error.
 */
function siblingNames(manifest: BundleManifest, raw: Record<string, VisualFlow>): Map<string, string> {
  const names = new Map<string, string>();
  const owner = new Map<string, string>();
  const claim = (name: string, flowId: string) => {
    const prev = owner.get(name);
    if (prev !== undefined && prev !== flowId) {
      throw new BundleError(`Duplicate flow id '${name}' (flows '${prev}' and '${flowId}')`);
    }
    owner.set(name, flowId);
    names.set(name, workflowIdOf(manifest.bundle_id, manifest.bundle_version, flowId));
  };
  for (const flowId of Object.keys(raw)) claim(flowId, flowId);
  for (const [flowId, flow] of Object.entries(raw)) {
    if (typeof flow.id === "string" && flow.id !== "") claim(flow.id, flowId);
  }
  return names;
}

/** Parses and namespaces the flows of `manifest` from the inflated `files` (path -> bytes). */
function assemble(manifest: BundleManifest, files: Record<string, Uint8Array>, sha256: string): LoadedBundle {
  const raw: Record<string, VisualFlow> = {};
  for (const [flowId, path] of Object.entries(manifest.flows)) {
    raw[flowId] = parseFlow(flowId, path, files[path]);
  }
  const siblings = siblingNames(manifest, raw);
  for (const [flowId, flow] of Object.entries(raw)) {
    namespaceFlow(flow, workflowIdOf(manifest.bundle_id, manifest.bundle_version, flowId), siblings);
  }
  return {
    manifest,
    ref: `${manifest.bundle_id}@${manifest.bundle_version}`,
    file: null,
    sha256,
    flows: raw,
  };
}

/**
 * Validates and namespaces a bundle (`file` is null; the host fills it in). The archive is read piece
 * by piece (a bundle file or a spooled upload): inflation and hashing proceed in slices, so a large
 * bundle never holds the event loop for long. Throws BundleError with a message naming the problem.
 */
export async function readFlowBundleFrom(src: ZipSource, options: ReadOptions = {}): Promise<LoadedBundle> {
  const zip = await openSafeZipStream(src, { ...DEFAULT_ZIP_LIMITS, ...options });
  const manifest = await manifestOf(zip);
  return assemble(manifest, await zip.extract(Object.values(manifest.flows)), await sha256Source(src));
}

/** Only the manifest of an archive read piece by piece. */
export async function readBundleManifestFrom(
  src: ZipSource,
  options: ReadOptions = {},
): Promise<BundleManifest> {
  return await manifestOf(await openSafeZipStream(src, { ...DEFAULT_ZIP_LIMITS, ...options }));
}

async function manifestOf(zip: AsyncSafeZip): Promise<BundleManifest> {
  requireManifest(zip.names);
  return parseManifest((await zip.extract([MANIFEST]))[MANIFEST]);
}

/** readFlowBundleFrom for a bundle already in memory (the CLI's file or stdin, tests). */
export function readFlowBundle(bytes: Uint8Array, options: ReadOptions = {}): Promise<LoadedBundle> {
  return readFlowBundleFrom(bytesSource(bytes), options);
}
