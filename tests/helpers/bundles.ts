/**
 * Builds real `.flow` bundles (zip: manifest.json + VisualFlow JSON) for tests, with fflate.
 * `makeBundle` packs any flows; the `*Flow` helpers build small ready flows.
 */
import { strToU8, zipSync } from "fflate";
import { join } from "node:path";
import type { VisualEdge, VisualFlow, VisualNode } from "../../src/bundles/types.ts";

const EXEC_IN = { id: "exec-in", label: "", type: "execution" };
const EXEC_OUT = { id: "exec-out", label: "", type: "execution" };

function node(id: string, type: string, data: Record<string, unknown> = {}): VisualNode {
  return {
    id,
    type,
    position: { x: 0, y: 0 },
    data: { nodeType: type, label: type, inputs: [EXEC_IN], outputs: [EXEC_OUT], ...data },
  };
}

function exec(source: string, target: string): VisualEdge {
  return { id: `e-${source}-${target}`, source, sourceHandle: "exec-out", target, targetHandle: "exec-in" };
}

export interface StartPin {
  id: string;
  type?: string;
  default?: unknown;
}

function startNode(pins: StartPin[]): VisualNode {
  const defaults: Record<string, unknown> = {};
  for (const p of pins) if (p.default !== undefined) defaults[p.id] = p.default;
  return node("start", "on_flow_start", {
    label: "On Flow Start",
    inputs: [],
    outputs: [EXEC_OUT, ...pins.map((p) => ({ id: p.id, label: p.id, type: p.type ?? "string" }))],
    pinDefaults: defaults,
  });
}

const endNode = () => node("end", "on_flow_end", { label: "On Flow End", outputs: [] });

/** start → end: completes on the first tick. */
export function startEndFlow(id: string, pins: StartPin[] = []): VisualFlow {
  return {
    id,
    name: id,
    entryNode: "start",
    nodes: [startNode(pins), endNode()],
    edges: [exec("start", "end")],
  };
}

/** start → `middle` → end. */
function throughFlow(id: string, middle: VisualNode): VisualFlow {
  return {
    id,
    name: id,
    entryNode: "start",
    nodes: [startNode([]), middle, endNode()],
    edges: [exec("start", middle.id), exec(middle.id, "end")],
  };
}

/** start → ask_user → end: waits for a `resume` with `{response}`. */
export function askUserFlow(id: string, prompt = "who are you?"): VisualFlow {
  const ask = node("ask", "ask_user", {
    label: "Ask User",
    inputs: [EXEC_IN, { id: "prompt", label: "prompt", type: "string" }],
    outputs: [EXEC_OUT, { id: "response", label: "response", type: "string" }],
    pinDefaults: { prompt },
    effectConfig: { allowFreeText: true },
  });
  return throughFlow(id, ask);
}

/** start → wait_event(event_key) → end: resumed by an emit_event whose wait key is `waitKey`. */
export function waitEventFlow(id: string, waitKey: string): VisualFlow {
  const wait = node("wait", "wait_event", {
    label: "Wait Event",
    inputs: [EXEC_IN, { id: "event_key", label: "event_key", type: "string" }],
    outputs: [EXEC_OUT, { id: "event_data", label: "event_data", type: "object" }],
    pinDefaults: { event_key: waitKey },
  });
  return throughFlow(id, wait);
}

/** start → wait_until(seconds) → end. */
export function waitUntilFlow(id: string, seconds: number): VisualFlow {
  const wait = node("wait", "wait_until", {
    label: "Wait Until",
    inputs: [EXEC_IN, { id: "duration", label: "duration", type: "number" }],
    pinDefaults: { duration: seconds },
    effectConfig: { durationType: "seconds" },
  });
  return throughFlow(id, wait);
}

/** start → subflow(childFlowId of the same bundle) → end: the parent waits on a child run. */
export function subflowFlow(id: string, childFlowId: string): VisualFlow {
  const sub = node("sub", "subflow", {
    label: "Subflow",
    subflowId: childFlowId,
    outputs: [EXEC_OUT, { id: "output", label: "output", type: "object" }],
  });
  return throughFlow(id, sub);
}

export interface BundleSpec {
  bundleId: string;
  version: string;
  /** flow_id → flow; every flow is an entrypoint unless `entrypoints` says otherwise. */
  flows: Record<string, VisualFlow>;
  entrypoints?: string[];
  defaultEntrypoint?: string | null;
  createdAt?: string;
  /** Extra manifest keys (or overrides), e.g. to build invalid manifests. */
  manifest?: Record<string, unknown>;
}

export function makeBundle(spec: BundleSpec): Uint8Array {
  const entrypoints = spec.entrypoints ?? Object.keys(spec.flows);
  const manifest = {
    bundle_format_version: "1",
    bundle_id: spec.bundleId,
    bundle_version: spec.version,
    created_at: spec.createdAt ?? "2026-01-01T00:00:00+00:00",
    entrypoints: entrypoints.map((flowId) => ({
      flow_id: flowId,
      name: flowId,
      description: "",
      interfaces: [],
    })),
    default_entrypoint: spec.defaultEntrypoint ?? null,
    flows: Object.fromEntries(Object.keys(spec.flows).map((flowId) => [flowId, `flows/${flowId}.json`])),
    assets: {},
    metadata: {},
    ...spec.manifest,
  };
  const files: Record<string, Uint8Array> = { "manifest.json": strToU8(JSON.stringify(manifest, null, 2)) };
  for (const [flowId, flow] of Object.entries(spec.flows)) {
    files[`flows/${flowId}.json`] = strToU8(JSON.stringify(flow));
  }
  return zipSync(files);
}

/** Writes `<dir>/<id>@<ver>.flow` and returns its path. */
export async function writeBundle(dir: string, spec: BundleSpec): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, `${spec.bundleId}@${spec.version}.flow`);
  await Deno.writeFile(path, makeBundle(spec));
  return path;
}

/** start → generate_music (no backend for it) → end, plus an orphan `code` node nothing reaches. */
export function unrunnableFlow(id: string): VisualFlow {
  const flow = throughFlow(id, node("img", "generate_music", { label: "Generate Music" }));
  flow.nodes.push(node("orphan", "code", { label: "Code" }));
  return flow;
}
