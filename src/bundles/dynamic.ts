/**
 * Dynamic flows (e.g. schedule wrappers `scheduled:<uuid>`) persisted as
 * `<data>/dynamic_flows/<safe id>.json`, where the file name is the flow id with every run of
 * characters outside `[A-Za-z0-9._-]` replaced by `_`.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic.ts";
import { asVisualFlow, parseVisualFlow } from "./flow.ts";
import { BundleError, type BundleLoadError, type VisualFlow } from "./types.ts";

export const DYNAMIC_FLOWS_DIR = "dynamic_flows";

export function dynamicFlowFileName(id: string): string {
  return `${id.replace(/[^A-Za-z0-9._-]+/g, "_")}.json`;
}

function checkId(flow: VisualFlow, where: string): VisualFlow {
  if (typeof flow.id !== "string" || flow.id.trim() === "") throw new BundleError(`${where} has no 'id'`);
  return flow;
}

/** Every readable dynamic flow of `dir`, keyed by its `id`; unreadable files are reported. */
export async function loadDynamicFlows(
  dir: string,
): Promise<{ flows: Map<string, VisualFlow>; errors: BundleLoadError[] }> {
  const flows = new Map<string, VisualFlow>();
  const errors: BundleLoadError[] = [];
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) if (e.isFile && e.name.endsWith(".json")) names.push(e.name);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { flows, errors };
    throw err;
  }
  for (const name of names.sort()) {
    const file = join(dir, name);
    try {
      const flow = checkId(parseVisualFlow(await Deno.readTextFile(file), `Dynamic flow ${name}`), name);
      flows.set(flow.id, flow);
    } catch (err) {
      errors.push({ file, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return { flows, errors };
}

/** Synchronous lookup of one dynamic flow written by another process; undefined when absent or invalid. */
export function readDynamicFlowSync(dir: string, id: string): VisualFlow | undefined {
  const path = join(dir, dynamicFlowFileName(id));
  try {
    if (!Deno.lstatSync(path).isFile) return undefined; // never follow a planted symlink
    const flow = parseVisualFlow(Deno.readTextFileSync(path), id);
    return flow.id === id ? flow : undefined;
  } catch {
    return undefined;
  }
}

export async function writeDynamicFlow(dir: string, flow: VisualFlow): Promise<void> {
  checkId(asVisualFlow(flow, "Dynamic flow"), "Dynamic flow");
  await Deno.mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, dynamicFlowFileName(flow.id)), JSON.stringify(flow, null, 2) + "\n");
}
