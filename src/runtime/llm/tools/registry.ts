/**
 * The tool catalogue (names used by the upstream bundles) and OpenAI function-tool conversion.
 * Read-only tools are `safe` (auto-run in approval mode); write/edit/exec need approval.
 */
import type { Json, JsonObject } from "../../types.ts";
import { analyzeCode, skimFiles, skimFolders } from "./files_skim.ts";
import { listFiles, readFile, searchFiles } from "./files_read.ts";
import { editFile, writeFile } from "./files_write.ts";
import { executeCommand } from "./system.ts";
import type { Tool, ToolSpec } from "./types.ts";
import { fetchUrl, webSearch } from "./web.ts";
import { isObject } from "../../engine/json.ts";

const TOOLS: Tool[] = [
  listFiles,
  skimFolders,
  searchFiles,
  analyzeCode,
  skimFiles,
  readFile,
  writeFile,
  editFile,
  webSearch,
  fetchUrl,
  executeCommand,
];

export const TOOL_REGISTRY: ReadonlyMap<string, Tool> = new Map(TOOLS.map((t) => [t.spec.name, t]));

export const getTool = (name: string): Tool | undefined => TOOL_REGISTRY.get(name);

export const isSafeTool = (name: string): boolean => TOOL_REGISTRY.get(name)?.safe === true;

/** Specs for the names that exist in the catalogue, in the given order (unknown names dropped). */
export function toolSpecsFor(names: readonly string[]): ToolSpec[] {
  return names.flatMap((name) => {
    const tool = TOOL_REGISTRY.get(name);
    return tool ? [tool.spec] : [];
  });
}

/**
 * An OpenAI `tools` entry from a payload tool: a catalogue name, one of our ToolSpecs (parameters
 * keyed by name; no default = required), a spec whose parameters are already a JSON schema, or an
 * OpenAI function tool. Returns null for names not in the catalogue and malformed entries.
 */
export function toOpenAiTool(tool: Json): JsonObject | null {
  if (typeof tool === "string") {
    const spec = TOOL_REGISTRY.get(tool)?.spec;
    return spec ? toOpenAiTool(spec as unknown as JsonObject) : null;
  }
  if (!isObject(tool)) return null;
  if (tool.type === "function" && isObject(tool.function)) return tool;
  if (typeof tool.name !== "string" || !tool.name) return null;
  const params = isObject(tool.parameters) ? tool.parameters : {};
  let schema: JsonObject;
  if (params.type === "object" && isObject(params.properties)) {
    schema = params;
  } else {
    const properties: JsonObject = {};
    const required: string[] = [];
    for (const [name, raw] of Object.entries(params)) {
      if (!isObject(raw)) continue;
      const { default: fallback, ...rest } = raw;
      properties[name] = fallback === undefined || fallback === null ? rest : { ...rest, default: fallback };
      if (!("default" in raw)) required.push(name);
    }
    schema = { type: "object", properties, required };
  }
  const description = typeof tool.description === "string" ? tool.description : "";
  return { type: "function", function: { name: tool.name, description, parameters: schema } };
}
