/** Structural check of VisualFlow JSON (the compiler does the semantic checks). */
import { BundleError, type VisualFlow } from "./types.ts";

/** Returns `value` as a VisualFlow, or throws BundleError prefixed with `where`. */
export function asVisualFlow(value: unknown, where: string): VisualFlow {
  const f = value as Record<string, unknown>;
  if (typeof value !== "object" || value === null || !Array.isArray(f.nodes) || !Array.isArray(f.edges)) {
    throw new BundleError(`${where} is not a VisualFlow (needs 'nodes' and 'edges' arrays)`);
  }
  for (const [i, node] of (f.nodes as unknown[]).entries()) {
    const n = node as Record<string, unknown>;
    if (typeof node !== "object" || node === null || typeof n.id !== "string" || typeof n.type !== "string") {
      throw new BundleError(`${where}: nodes[${i}] needs string 'id' and 'type'`);
    }
    if (typeof n.data !== "object" || n.data === null || Array.isArray(n.data)) n.data = {};
  }
  return value as VisualFlow;
}

/** Parses JSON bytes/text into a VisualFlow, or throws BundleError prefixed with `where`. */
export function parseVisualFlow(data: Uint8Array | string, where: string): VisualFlow {
  let value: unknown;
  try {
    value = JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(data));
  } catch (err) {
    throw new BundleError(`${where} is not valid JSON: ${(err as Error).message}`);
  }
  return asVisualFlow(value, where);
}
