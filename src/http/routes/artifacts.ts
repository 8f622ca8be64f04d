/** Run artifacts: list, metadata and raw content, with the session visibility rule of §3.7. */
import { z } from "@hono/zod-openapi";
import type { App } from "../env.ts";
import { HttpError, runNotFound } from "../errors.ts";
import { loadRunForRead, sessionMemoryRunId } from "../session_memory.ts";
import { servableMediaType } from "../media_type.ts";
import type { Gateway } from "../../gateway.ts";
import type { RunState } from "../../runtime/types.ts";
import type { ArtifactMeta } from "../../store/types.ts";
import { artifactAccess, artifactDescriptor, artifactEnvelope, artifactPage } from "../artifact_views.ts";
import { errorResponses, gatewayRoute, jsonContent } from "../schemas/common.ts";
import {
  ArtifactList,
  ArtifactListQuery,
  ArtifactMetadata,
  ArtifactParams,
  ContentQuery,
} from "../schemas/artifacts.ts";
import { RunIdParam } from "../schemas/ledger.ts";

const ARTIFACT_ID = /^[A-Za-z0-9._:-]{1,200}$/;

const list = gatewayRoute({
  method: "get",
  path: "/runs/{run_id}/artifacts",
  tags: ["artifacts"],
  summary: "List a run's artifacts (newest first)",
  request: { params: RunIdParam, query: ArtifactListQuery },
  responses: { 200: jsonContent(ArtifactList, "A page of artifacts"), ...errorResponses(404) },
});

const metadata = gatewayRoute({
  method: "get",
  path: "/runs/{run_id}/artifacts/{artifact_id}",
  tags: ["artifacts"],
  summary: "Metadata of one artifact visible through the run",
  request: { params: ArtifactParams },
  responses: { 200: jsonContent(ArtifactMetadata, "Artifact metadata"), ...errorResponses(400, 404) },
});

const content = gatewayRoute({
  method: "get",
  path: "/runs/{run_id}/artifacts/{artifact_id}/content",
  tags: ["artifacts"],
  summary: "Raw bytes of one artifact (Content-Type = stored type)",
  request: { params: ArtifactParams, query: ContentQuery },
  responses: {
    200: { content: { "application/octet-stream": { schema: z.string() } }, description: "The bytes" },
    ...errorResponses(400, 404),
  },
});

export function registerArtifactRoutes(app: App, gw: Gateway): void {
  const { runs, artifacts } = gw.stores;

  /** The run (or a session's owner run, unsaved); 404 otherwise. */
  async function loadRun(runId: string): Promise<RunState> {
    return await loadRunForRead(runs, runId) ?? Promise.reject(runNotFound(runId));
  }

  async function visibleArtifact(run: RunState, artifactId: string): Promise<ArtifactMeta> {
    if (!ARTIFACT_ID.test(artifactId)) {
      throw new HttpError(400, `Invalid artifact id: ${JSON.stringify(artifactId)}`);
    }
    const meta = await artifacts.getMetadata(artifactId);
    if (!meta) throw new HttpError(404, `Artifact '${artifactId}' not found`);
    const session = run.session_id;
    const visible = meta.run_id === run.run_id ||
      (session !== null && meta.run_id === sessionMemoryRunId(session)) ||
      (session !== null && meta.tags.session_id === session);
    if (!visible) throw new HttpError(404, "artifact not found");
    return meta;
  }

  app.openapi(list, async (c) => {
    const { run_id } = c.req.valid("param");
    const query = c.req.valid("query");
    const run = await loadRun(run_id);
    return c.json(artifactPage(await artifacts.listByRun(run.run_id), query), 200);
  });

  app.openapi(metadata, async (c) => {
    const { run_id, artifact_id } = c.req.valid("param");
    const meta = await visibleArtifact(await loadRun(run_id), artifact_id);
    return c.json({
      artifact_id: meta.artifact_id,
      blob_id: meta.blob_id,
      content_type: meta.content_type,
      size_bytes: meta.size_bytes,
      created_at: meta.created_at,
      run_id: meta.run_id,
      tags: meta.tags,
      metadata: meta.metadata,
      descriptor: artifactDescriptor(meta),
      access: artifactAccess(meta, run_id),
      artifact_envelope_v1: artifactEnvelope(meta, run_id),
    }, 200);
  });

  app.openapi(content, async (c) => {
    const { run_id, artifact_id } = c.req.valid("param");
    const query = c.req.valid("query");
    const meta = await visibleArtifact(await loadRun(run_id), artifact_id);
    const loaded = await artifacts.load(meta.artifact_id);
    if (!loaded) throw new HttpError(404, `Artifact '${artifact_id}' not found`);
    const headers: Record<string, string> = {
      "Content-Type": servableMediaType(loaded.meta.content_type),
    };
    if ((query.access_action ?? query.access) === "download") {
      const name = (loaded.meta.filename ?? loaded.meta.artifact_id).replace(/["\\\r\n]/g, "_");
      headers["Content-Disposition"] = `attachment; filename="${name}"`;
    }
    return c.body(loaded.content as Uint8Array<ArrayBuffer>, 200, headers);
  });
}
