/**
 * Input hygiene for new runs (§3.5 steps 3 and 5, §2.5): what the client sent becomes the run's
 * vars, with host-owned `_runtime` fields added and workspace knobs clamped to allowed roots.
 */
import { join, resolve } from "node:path";
import type { Config } from "../config/config.ts";
import { isUnder } from "../config/config.ts";
import type { Json, JsonObject } from "../runtime/types.ts";
import { nowIso } from "../util/time.ts";
import { sanitizeRunLifecycle } from "./run_lifecycle.ts";

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === "object" && !Array.isArray(v);
const ACCESS_MODES = ["workspace_only", "workspace_or_allowed"];
const CAMEL_ALIASES = [
  "workspaceRoot",
  "workspaceAccessMode",
  "workspaceAllowedPaths",
  "workspaceIgnoredPaths",
];

export interface StartInput {
  input_data: JsonObject;
  thinking?: boolean | string | null;
  run_lifecycle?: unknown;
}

export interface PreparedVars {
  vars: JsonObject;
  /** Set when the gateway owns the run's workspace: `createWorkspace` makes it when the run starts. */
  createdWorkspace: string | null;
}

function allowedRoots(config: Config): string[] {
  const roots = [join(config.dataDir, "workspaces")];
  if (config.workspaceDir) roots.push(config.workspaceDir);
  return roots;
}

function insideAllowed(path: string, roots: string[]): boolean {
  const abs = resolve(path);
  return roots.some((root) => abs === root || isUnder(abs, root));
}

function clampWorkspace(vars: JsonObject, config: Config): void {
  const overrides = config.toolMode === "local";
  for (const alias of CAMEL_ALIASES) delete vars[alias];
  if (overrides) return;
  const roots = allowedRoots(config);
  if (typeof vars.workspace_root !== "string" || !insideAllowed(vars.workspace_root, roots)) {
    delete vars.workspace_root;
  }
  const mode = vars.workspace_access_mode;
  if (mode !== undefined) {
    vars.workspace_access_mode = typeof mode === "string" && ACCESS_MODES.includes(mode)
      ? mode
      : "workspace_only";
  }
  const allowed = vars.workspace_allowed_paths;
  if (Array.isArray(allowed)) {
    vars.workspace_allowed_paths = allowed.filter((p) => typeof p === "string" && insideAllowed(p, roots));
  } else if (typeof allowed === "string") {
    vars.workspace_allowed_paths = allowed.split("\n").filter((p) =>
      p.trim() && insideAllowed(p.trim(), roots)
    )
      .join("\n");
  }
  const ignored = vars.workspace_ignored_paths;
  if (Array.isArray(ignored)) {
    vars.workspace_ignored_paths = ignored.filter((p) => typeof p === "string").join("\n");
  }
}

/** Builds the vars of a new run; names a new workspace dir when the client did not give a usable one. */
export function prepareRunVars(input: StartInput, config: Config): PreparedVars {
  const vars: JsonObject = structuredClone(input.input_data);
  const runtime: JsonObject = isObject(vars._runtime) ? vars._runtime : {};
  delete runtime.workflow_policy;
  vars._runtime = runtime;

  clampWorkspace(vars, config);

  const thinking = input.thinking;
  if (typeof thinking === "boolean") runtime.thinking = thinking;
  else if (typeof thinking === "string" && thinking.trim()) runtime.thinking = thinking.trim();

  const lifecycle = sanitizeRunLifecycle(input.run_lifecycle);
  if (lifecycle) vars._run_lifecycle = lifecycle;
  else delete vars._run_lifecycle;

  if (typeof runtime.workflow_bundles_dir !== "string") runtime.workflow_bundles_dir = config.flowsDir;
  runtime.max_attachment_bytes = config.maxAttachmentBytes;
  if (config.promptCache !== undefined && !isObject(runtime.prompt_cache)) {
    runtime.prompt_cache = { enabled: config.promptCache, version: 1 };
  }

  let createdWorkspace: string | null = null;
  if (typeof vars.workspace_root !== "string") {
    createdWorkspace = join(config.dataDir, "workspaces", crypto.randomUUID().replaceAll("-", ""));
    vars.workspace_root = createdWorkspace;
  }
  return { vars, createdWorkspace };
}

/**
 * Creates the run's gateway-owned workspace dir with its marker (what purge_drafts checks before it
 * deletes a workspace). Synchronous: two small metadata calls cost less CPU than two thread-pool
 * round trips, and the dir exists before the start is answered (file tools need it). Not fsynced:
 * a kill -9 keeps it (page cache); only a power loss can take an empty dir, never run data.
 */
export function createWorkspace(dir: string, runId: string): void {
  try {
    Deno.mkdirSync(dir);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    Deno.mkdirSync(dir, { recursive: true }); // the first workspace: `<data>/workspaces` is missing
  }
  const marker: Record<string, Json> = {
    owner: "abstractgateway",
    kind: "run_workspace",
    run_id: runId,
    created_at: nowIso(),
  };
  Deno.writeTextFileSync(join(dir, ".abstractgateway-workspace.json"), JSON.stringify(marker));
}
