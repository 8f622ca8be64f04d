/** JSON views of artifacts shared by the run and session artifact routes. */
import type { ArtifactMeta } from "../store/types.ts";

export function modality(contentType: string): string {
  const major = contentType.split("/")[0];
  return ["image", "audio", "video", "text"].includes(major) ? major : "file";
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
