/** Test harness: a WorkflowRuntime on real file stores in a temp dir, plus a driver that plays the runner. */
import { loadConfig } from "../../src/config/config.ts";
import type { LoadedBundle, VisualFlow } from "../../src/bundles/types.ts";
import type { EffectHandler, WorkflowSpec } from "../../src/runtime/spec.ts";
import type { JsonObject, RunState, StepRecord } from "../../src/runtime/types.ts";
import { isTerminal } from "../../src/runtime/types.ts";
import { WorkflowRuntime } from "../../src/runtime/workflow_runtime.ts";
import type { RetryPolicy } from "../../src/runtime/engine/host.ts";
import { openStores } from "../../src/store/open.ts";
import type { StoreBackend, Stores } from "../../src/store/types.ts";
import { sandboxTempDir } from "../helpers/paths.ts";

export interface Harness {
  dir: string;
  stores: Stores;
  runtime: WorkflowRuntime;
  flows: Map<string, VisualFlow>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  flows?: VisualFlow[];
  bundles?: LoadedBundle[];
  specs?: Map<string, WorkflowSpec>;
  effectHandlers?: Record<string, EffectHandler>;
  env?: Record<string, string>;
  backend?: StoreBackend;
  dir?: string;
  retryPolicy?: RetryPolicy;
}

export async function openHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = options.dir ?? await sandboxTempDir("runtime-");
  const removeDir = () => options.dir ? Promise.resolve() : Deno.remove(dir, { recursive: true });
  let stores: Stores;
  try {
    stores = await openStores({ backend: options.backend ?? "file", dataDir: dir });
  } catch (err) {
    await removeDir();
    throw err;
  }
  const flows = new Map<string, VisualFlow>();
  for (const f of options.flows ?? []) flows.set(f.id, f);
  for (const b of options.bundles ?? []) for (const f of Object.values(b.flows)) flows.set(f.id, f);
  const close = async () => {
    await stores.close();
    await removeDir();
  };
  try {
    const config = loadConfig({ ABSTRACTGATEWAY_DATA_DIR: dir, ...options.env });
    const runtime = new WorkflowRuntime({
      stores,
      workflows: { getWorkflow: (id) => flows.get(id), list: () => options.bundles ?? [] },
      config,
      specs: options.specs,
      effectHandlers: options.effectHandlers,
      retryPolicy: options.retryPolicy,
    });
    return { dir, stores, runtime, flows, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Plays the runner for one run tree: ticks every RUNNING run, resumes parents of terminal children,
 * until the root is terminal or nothing is runnable (a user/event wait). Returns the root run.
 */
export async function drive(h: Harness, rootId: string, maxRounds = 200): Promise<RunState> {
  for (let round = 0; round < maxRounds; round++) {
    let progressed = false;
    const page = await h.stores.runs.list({ status: "running", limit: 500 });
    for (const run of page.items) {
      await h.runtime.tick(run.run_id);
      progressed = true;
    }
    const all = await h.stores.runs.list({ limit: 500 });
    for (const run of all.items) {
      if (isTerminal(run.status) && run.parent_run_id) {
        if ((await h.runtime.resumeParentsOf(run.run_id)).length > 0) progressed = true;
      }
    }
    const root = (await h.stores.runs.load(rootId))!;
    if (isTerminal(root.status) || !progressed) return root;
  }
  throw new Error(`run ${rootId} did not settle in ${maxRounds} rounds`);
}

export async function ledgerOf(h: Harness, runId: string): Promise<StepRecord[]> {
  return (await h.stores.ledger.read(runId, 0, 10_000)).items;
}

/** Compact VisualFlow builder for tests: nodes as [id, type, data], edges as "a:pin->b:pin". */
export function visualFlow(
  id: string,
  nodes: [string, string, JsonObject?][],
  edges: string[],
  entryNode?: string,
): VisualFlow {
  return {
    id,
    entryNode,
    nodes: nodes.map(([nid, type, data]) => ({
      id: nid,
      type,
      data: (data ?? {}) as VisualFlow["nodes"][0]["data"],
    })),
    edges: edges.map((e) => {
      const [src, dst] = e.split("->");
      const cut = (x: string) => [x.slice(0, x.indexOf(":")), x.slice(x.indexOf(":") + 1)];
      const [source, sourceHandle] = cut(src);
      const [target, targetHandle] = cut(dst);
      return { source, sourceHandle, target, targetHandle };
    }),
  };
}

/** Pins helper: exec in/out plus named data pins. */
export const pins = (inputs: string[], outputs: string[], exec = true) => ({
  inputs: [
    ...(exec ? [{ id: "exec-in", type: "execution" }] : []),
    ...inputs.map((id) => ({ id, type: "any" })),
  ],
  outputs: [
    ...(exec ? [{ id: "exec-out", type: "execution" }] : []),
    ...outputs.map((id) => ({ id, type: "any" })),
  ],
});
