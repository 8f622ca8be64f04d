/** Discovery: what this gateway can do (`/discovery/capabilities`) and its workspace policy. */
import { toolingStatus } from "../../tooling/status.ts";
import { z } from "@hono/zod-openapi";
import type { App } from "../env.ts";
import type { Gateway } from "../../gateway.ts";
import { COMMAND_TYPES } from "../../runtime/types.ts";
import { errorResponses, gatewayRoute, jsonContent } from "../schemas/common.ts";
import { API_VERSION } from "./docs.ts";

const G = "/api/gateway";
const on = (endpoint: string, extra: Record<string, unknown> = {}) => ({
  available: true,
  endpoint,
  ...extra,
});
const off = { available: false };

function runsContract() {
  return {
    start: on(`${G}/runs/start`, {
      thinking_control: {
        field: "thinking",
        runtime_field: "_runtime.thinking",
        values: ["off", "low", "medium", "high", "xhigh"],
      },
      idempotency: { field: "idempotency_key", header: "Idempotency-Key" },
    }),
    schedule: on(`${G}/runs/schedule`),
    summary: on(`${G}/runs/{run_id}`),
    list: on(`${G}/runs`),
    purge_drafts: on(`${G}/runs/purge_drafts`),
    input_data: on(`${G}/runs/{run_id}/input_data`),
    history_bundle: on(`${G}/runs/{run_id}/history_bundle`),
    commands: on(`${G}/commands`, { types: [...COMMAND_TYPES], status: `${G}/commands/{command_id}` }),
    changes: on(`${G}/runs/changes/stream`, { transport: "sse" }),
  };
}

const ledgerContract = () => ({
  replay: on(`${G}/runs/{run_id}/ledger`),
  batch: on(`${G}/runs/ledger/batch`),
  stream: on(`${G}/runs/{run_id}/ledger/stream`, { transport: "sse", resume: ["after", "Last-Event-ID"] }),
});

const artifactsContract = () => ({
  list: on(`${G}/runs/{run_id}/artifacts`),
  metadata: on(`${G}/runs/{run_id}/artifacts/{artifact_id}`),
  content: on(`${G}/runs/{run_id}/artifacts/{artifact_id}/content`),
  session_list: on(`${G}/sessions/{session_id}/artifacts`),
  attachments_upload: on(`${G}/attachments/upload`),
  search: { ...off, endpoint: `${G}/artifacts/search` },
  import: { ...off, endpoint: `${G}/artifacts/import` },
  export: { ...off, endpoint: `${G}/runs/{run_id}/artifacts/{artifact_id}/export` },
});

/** What a client needs to run flows: every client contract carries these (fresh copies, as upstream). */
const runSurface = () => ({ runs: runsContract(), ledger: ledgerContract(), artifacts: artifactsContract() });
const workspaceContract = () => ({
  policy_endpoint: `${G}/workspace/policy`,
  policy: on(`${G}/workspace/policy`),
});
const attachmentsContract = () => ({ upload: on(`${G}/attachments/upload`) });

/** The `contracts` block real clients gate features on (flow editor, assistant, AbstractCode). */
function contracts(mediaConfigured: boolean) {
  return {
    version: 1,
    common: { ...runSurface(), attachments: attachmentsContract(), workspace: workspaceContract() },
    flow_editor: {
      available: true,
      version: 1,
      ...runSurface(),
      bundles: {
        list: on(`${G}/bundles`),
        inspect: on(`${G}/bundles/{bundle_id}`),
        upload: on(`${G}/bundles/upload`),
        reload: on(`${G}/bundles/reload`),
        remove: on(`${G}/bundles/{bundle_id}`),
        deprecate: on(`${G}/bundles/{bundle_id}/deprecate`),
        undeprecate: on(`${G}/bundles/{bundle_id}/undeprecate`),
        flow: on(`${G}/bundles/{bundle_id}/flows/{flow_id}`),
        input_schema: on(`${G}/bundles/{bundle_id}/flows/{flow_id}/input_schema`),
      },
      run_input_schema: on(`${G}/bundles/{bundle_id}/flows/{flow_id}/input_schema`),
      // server-side VisualFlow drafts are not kept: the editor publishes by uploading a bundle
      visualflows: { crud: off, publish: off },
    },
    assistant: {
      available: true,
      version: 1,
      ...runSurface(),
      attachments: attachmentsContract(),
      voice: { tts: off, stt: off },
      media: { generated_image: { workflow: mediaConfigured, direct_endpoint: false } },
      prompt_cache: { provider_controls: false, session_lifecycle: false },
    },
    abstractcode: { available: true, version: 1, ...runSurface(), workspace: workspaceContract() },
  };
}

const capabilities = gatewayRoute({
  method: "get",
  path: "/discovery/capabilities",
  tags: ["discovery"],
  summary: "What this gateway supports (packages, contracts and endpoints)",
  responses: {
    200: jsonContent(z.object({ capabilities: z.record(z.string(), z.unknown()) }), "Capabilities"),
    ...errorResponses(),
  },
});

const workspacePolicy = gatewayRoute({
  method: "get",
  path: "/workspace/policy",
  tags: ["discovery"],
  summary: "Workspace policy applied to new runs",
  responses: {
    200: jsonContent(
      z.object({ ok: z.literal(true), policy: z.record(z.string(), z.unknown()) }),
      "The policy",
    ),
    ...errorResponses(),
  },
});

export function registerDiscoveryRoutes(app: App, gw: Gateway): void {
  app.openapi(capabilities, (c) => {
    const absent = { installed: false };
    return c.json({
      capabilities: {
        abstractgateway: { installed: true, version: API_VERSION, implementation: "gateway (Deno)" },
        abstractruntime: { installed: true, version: API_VERSION, implementation: "built-in" },
        abstractcore: gw.config.llmBaseUrl ? { installed: true, provider: "openai-compatible" } : absent,
        abstractmemory: absent,
        abstractvoice: absent,
        abstractvision: absent,
        capability_plugins: {},
        multimodal: { available: false },
        tools: { mode: gw.config.toolMode },
        // This process: the store it uses and whether its in-process runner holds the runner lock.
        server: {
          store: gw.config.storeBackend,
          runner: gw.runner ? (gw.runner.hasLock ? "active" : "standby") : "off",
        },
        operator_tooling: toolingStatus(gw.config),
        visualflow: { installed: true },
        media: gw.config.mediaBaseUrl !== undefined
          ? { available: true, tasks: ["image_generation", "tts", "transcription"] }
          : { available: false },
        contracts: contracts(gw.config.mediaBaseUrl !== undefined),
      },
    }, 200);
  });

  app.openapi(workspacePolicy, (c) =>
    c.json({
      ok: true as const,
      policy: {
        target: "server",
        mounts: Object.keys(gw.config.workspaceMounts).sort().map((name) => ({ name })),
        max_attachment_bytes: gw.config.maxAttachmentBytes,
        client_workspace_scope_overrides: gw.config.toolMode === "local",
        allowed_access_modes: gw.config.toolMode === "local"
          ? ["workspace_only", "workspace_or_allowed", "all_except_ignored"]
          : ["workspace_only", "workspace_or_allowed"],
      },
    }, 200));
}
