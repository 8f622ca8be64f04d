/** Tool catalogue shapes: upstream-like ToolSpecs plus the executable side. */
import type { Json, JsonObject } from "../../types.ts";

/** One parameter; a parameter without `default` is required. */
export interface ToolParam {
  type: "string" | "integer" | "number" | "boolean" | "array" | "object";
  description: string;
  default?: Json;
  items?: JsonObject;
}

/** The ToolSpec put in llm_call payloads (upstream shape: parameters keyed by name). */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, ToolParam>;
  toolset: "files" | "web" | "system";
  when_to_use?: string;
}

export interface ToolContext {
  /** The run's workspace (`vars.workspace_root`); file tools refuse to work without one. */
  workspaceRoot: string | null;
  signal?: AbortSignal;
  /** Absolute paths of the executables execute_command may start (ABSTRACTGATEWAY_TOOL_COMMANDS). */
  commands: readonly string[];
  /** Whether the permission sandbox lets this process start that executable. */
  canRun: (executable: string) => boolean;
  fetch?: typeof fetch;
  /** fetch_url/web_search refuse loopback/private addresses unless this is set (tests). */
  allowPrivateNetwork?: boolean;
  /** Search endpoint of web_search (DuckDuckGo HTML by default). */
  webSearchUrl?: string;
}

export interface Tool {
  spec: ToolSpec;
  /** Read-only tools run without approval in `approval` mode. */
  safe: boolean;
  /** Why this deployment cannot run the tool at all (then nobody is asked to approve it), or null. */
  unavailable?(ctx: ToolContext): string | null;
  run(args: JsonObject, ctx: ToolContext): Promise<Json>;
}

/** A tool-level failure: becomes `{success:false, error, output}` in the result, never a run failure. */
export class ToolError extends Error {
  constructor(message: string, readonly output: Json = null) {
    super(message);
    this.name = "ToolError";
  }
}
