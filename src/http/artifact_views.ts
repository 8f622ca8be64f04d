/** JSON views of artifacts shared by the run and session artifact routes. */
import type { ArtifactMeta } from "../store/types.ts";

function modality(contentType: string): string {
  const major = contentType.split("/")[0];
  return ["image", "audio", "video", "text"].includes(major) ? major : "file";
}

/** How a client should render the bytes (upstream's descriptor `render_kind`). */
function renderKind(contentType: string): string {
  const t = contentType.split(";")[0].trim().toLowerCase();
  const major = t.split("/")[0];
  if (["image", "audio", "video"].includes(major)) return major;
  if (t === "text/markdown") return "markdown";
  if (t === "text/html") return "html";
  if (t === "application/json" || t.endsWith("+json")) return "json";
  return major === "text" ? "text" : "document";
}

/** Upstream's artifact descriptor (schema_version 1), from what we store. */
export function artifactDescriptor(meta: ArtifactMeta) {
  return {
    schema_version: 1,
    semantic_kind: meta.tags.kind ?? "artifact",
    render_kind: renderKind(meta.content_type),
    modality: modality(meta.content_type),
    filename: meta.filename,
    sha256: meta.blob_id,
    session_id: meta.tags.session_id ?? null,
    run_id: meta.run_id,
    node_id: meta.tags.node_id ?? null,
  };
}

/** Content/preview/download URLs through the artifact's owner run. */
export function artifactAccess(meta: ArtifactMeta, runId = meta.run_id): Record<string, string> {
  if (!runId) return {};
  const content = `/api/gateway/runs/${encodeURIComponent(runId)}/artifacts/${
    encodeURIComponent(meta.artifact_id)
  }/content`;
  return {
    content,
    preview: `${content}?access_action=preview`,
    download: `${content}?access_action=download`,
  };
}

/** `artifact_envelope_v1`: one self-describing object a client can keep and render later. */
export function artifactEnvelope(meta: ArtifactMeta, runId = meta.run_id) {
  return {
    version: 1,
    ref: { $artifact: meta.artifact_id, artifact_id: meta.artifact_id, run_id: meta.run_id },
    content_type: meta.content_type,
    size_bytes: meta.size_bytes,
    created_at: meta.created_at,
    descriptor: artifactDescriptor(meta),
    access: artifactAccess(meta, runId),
  };
}

function artifactListItem(meta: ArtifactMeta) {
  const md = meta.metadata;
  return {
    artifact_id: meta.artifact_id,
    run_id: meta.run_id,
    content_type: meta.content_type,
    size_bytes: meta.size_bytes,
    created_at: meta.created_at,
    tags: meta.tags,
    filename: meta.filename,
    source_path: typeof md.source_path === "string" ? md.source_path : null,
    sha256: meta.blob_id,
    modality: modality(meta.content_type),
    ref: { $artifact: meta.artifact_id },
    session_id: meta.tags.session_id ?? null,
    metadata: md,
    descriptor: artifactDescriptor(meta),
    access: artifactAccess(meta),
    artifact_envelope_v1: artifactEnvelope(meta),
  };
}

/** One page (newest first, as the store lists them); `limit <= 0` means 500. */
export function artifactPage(all: ArtifactMeta[], query: { limit: number; offset: number }) {
  const limit = query.limit <= 0 ? 500 : query.limit;
  const page = all.slice(query.offset, query.offset + limit);
  const end = query.offset + page.length;
  return {
    items: page.map(artifactListItem),
    total: all.length,
    offset: query.offset,
    limit,
    has_more: end < all.length,
    cursor: String(query.offset),
    next_cursor: end < all.length ? String(end) : null,
    facets: {},
    stats: {},
    warnings: [] as string[],
  };
}
