/** Session artifacts: list a session's files and upload an attachment to pass into runs (§3.7). */
import { z } from "@hono/zod-openapi";
import type { App } from "../env.ts";
import { HttpError } from "../errors.ts";
import { readMultipart } from "../multipart.ts";
import { isValidMediaType } from "../media_type.ts";
import { checkId } from "../input_guard.ts";
import { artifactPage } from "../artifact_views.ts";
import { ensureSessionMemoryRun, sessionMemoryRunId } from "../session_memory.ts";
import type { Gateway } from "../../gateway.ts";
import { errorResponses, gatewayRoute, jsonContent, JsonObjectSchema } from "../schemas/common.ts";
import { ArtifactList, ArtifactListQuery } from "../schemas/artifacts.ts";

const SessionParam = z.object({
  session_id: z.string().min(1).openapi({ param: { name: "session_id", in: "path" } }),
});

const sessionList = gatewayRoute({
  method: "get",
  path: "/sessions/{session_id}/artifacts",
  tags: ["artifacts"],
  summary: "List the artifacts of a session (its attachments and memory)",
  request: { params: SessionParam, query: ArtifactListQuery },
  responses: { 200: jsonContent(ArtifactList, "A page of artifacts"), ...errorResponses(400) },
});

const upload = gatewayRoute({
  method: "post",
  path: "/attachments/upload",
  tags: ["artifacts"],
  summary: "Upload a file into a session; pass the returned `artifact` ref in a run's input_data",
  request: {
    body: {
      required: true,
      content: {
        "multipart/form-data": {
          schema: {
            type: "object",
            required: ["session_id", "file"],
            properties: {
              session_id: { type: "string" },
              file: { type: "string", format: "binary" },
              filename: { type: "string" },
              content_type: { type: "string" },
              source_path: { type: "string" },
            },
          },
        },
      },
    },
  },
  responses: { 200: jsonContent(JsonObjectSchema, "Stored"), ...errorResponses(400, 413) },
});

function formString(form: FormData, key: string): string | undefined {
  const v = form.get(key);
  return typeof v === "string" && v.trim() ? v.trim() : undefined;
}

export function registerAttachmentRoutes(app: App, gw: Gateway): void {
  const { runs, artifacts } = gw.stores;

  app.openapi(sessionList, async (c) => {
    // A GET never creates the session's owner run: an unknown session simply has no artifacts.
    const owner = await runs.load(sessionMemoryRunId(c.req.valid("param").session_id));
    const items = owner ? await artifacts.listByRun(owner.run_id) : [];
    return c.json(artifactPage(items, c.req.valid("query")), 200);
  });

  app.openapi(upload, async (c) => {
    const form = await readMultipart(
      c,
      "Attachment upload must be multipart/form-data with 'session_id' and 'file'",
    );
    const sessionId = formString(form, "session_id");
    if (!sessionId) throw new HttpError(400, "Missing multipart field 'session_id'");
    checkId("session_id", sessionId);
    const file = form.get("file");
    if (!(file instanceof File)) throw new HttpError(400, "Missing multipart field 'file'");
    const max = gw.config.maxAttachmentBytes;
    if (file.size > max) throw new HttpError(413, `Attachment too large (${file.size} bytes > ${max} bytes)`);
    const filename = formString(form, "filename") ?? (file.name || null);
    const contentType = formString(form, "content_type") ?? (file.type || "application/octet-stream");
    if (!isValidMediaType(contentType)) {
      throw new HttpError(
        400,
        `Invalid content_type ${JSON.stringify(contentType.slice(0, 80))}: expected type/subtype`,
      );
    }
    const sourcePath = formString(form, "source_path");
    const owner = await ensureSessionMemoryRun(runs, sessionId);
    const meta = await artifacts.store(new Uint8Array(await file.arrayBuffer()), {
      run_id: owner.run_id,
      content_type: contentType,
      filename,
      tags: { session_id: sessionId, kind: "attachment" },
      metadata: sourcePath ? { source_path: sourcePath } : {},
    });
    const artifact = {
      $artifact: meta.artifact_id,
      artifact_id: meta.artifact_id,
      run_id: owner.run_id,
      content_type: meta.content_type,
      filename: meta.filename,
      size_bytes: meta.size_bytes,
      sha256: meta.blob_id,
      session_id: sessionId,
    };
    return c.json(
      { ok: true, run_id: owner.run_id, artifact, metadata: meta.metadata, attachment: artifact },
      200,
    );
  });
}
