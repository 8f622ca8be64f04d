/** Builders for in-test `.flow` bundles (real zips made with fflate). */
import { zipSync } from "fflate";
import type { VisualFlow } from "../../src/bundles/types.ts";

export type ZipFiles = Record<string, string | Uint8Array | object>;

/** Zips `files`; objects are JSON-encoded, strings UTF-8 encoded. */
export function makeZip(files: ZipFiles): Uint8Array {
  const out: Record<string, Uint8Array> = {};
  for (const [name, value] of Object.entries(files)) {
    out[name] = value instanceof Uint8Array
      ? value
      : new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));
  }
  return zipSync(out, { level: 6 });
}

/** A start → end flow whose start node declares `pins` (`{id: type}`) with `defaults`. */
export function simpleFlow(
  id: string,
  pins: Record<string, string> = {},
  defaults: Record<string, unknown> = {},
): VisualFlow {
  return {
    id,
    name: id,
    entryNode: "start",
    nodes: [
      {
        id: "start",
        type: "on_flow_start",
        data: {
          label: "On Flow Start",
          headerColor: "#C0392B",
          outputs: [
            { id: "exec-out", label: "", type: "execution" },
            ...Object.entries(pins).map(([pid, type]) => ({ id: pid, label: pid, type })),
          ],
          pinDefaults: defaults as VisualFlow["nodes"][number]["data"]["pinDefaults"],
        },
      },
      {
        id: "end",
        type: "on_flow_end",
        data: { label: "On Flow End", inputs: [{ id: "exec-in", type: "execution" }] },
      },
    ],
    edges: [{ id: "e1", source: "start", sourceHandle: "exec-out", target: "end", targetHandle: "exec-in" }],
  };
}

export interface BundleSpec {
  id: string;
  version?: string;
  createdAt?: string;
  flows?: Record<string, VisualFlow>;
  entrypoints?: string[];
  defaultEntrypoint?: string | null;
  metadata?: Record<string, unknown>;
}

export function manifestOf(spec: BundleSpec): Record<string, unknown> {
  const flows = spec.flows ?? { root: simpleFlow("root") };
  const eps = spec.entrypoints ?? [Object.keys(flows)[0]];
  return {
    bundle_format_version: "1",
    bundle_id: spec.id,
    bundle_version: spec.version ?? "0.0.0",
    created_at: spec.createdAt ?? "2026-01-01T00:00:00+00:00",
    entrypoints: eps.map((f) => ({ flow_id: f, name: f, description: "", interfaces: [] })),
    default_entrypoint: spec.defaultEntrypoint === undefined ? null : spec.defaultEntrypoint,
    flows: Object.fromEntries(Object.keys(flows).map((f) => [f, `flows/${f}.json`])),
    metadata: spec.metadata ?? {},
  };
}

/** A valid bundle zip. */
export function makeBundle(spec: BundleSpec): Uint8Array {
  const flows = spec.flows ?? { root: simpleFlow("root") };
  const files: ZipFiles = { "manifest.json": manifestOf(spec) };
  for (const [fid, flow] of Object.entries(flows)) files[`flows/${fid}.json`] = flow;
  return makeZip(files);
}

/** A temp dir removed by the returned disposer. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "gw-bundles-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}
