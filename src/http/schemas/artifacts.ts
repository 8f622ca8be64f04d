/** Schemas of the run artifact routes. */
import { z } from "@hono/zod-openapi";
import { intQuery } from "./common.ts";

export const ArtifactParams = z.object({
  run_id: z.string().min(1).openapi({ param: { name: "run_id", in: "path" } }),
  artifact_id: z.string().min(1).openapi({ param: { name: "artifact_id", in: "path" } }),
});

export const ArtifactListQuery = z.object({
  limit: intQuery(500, -1, 10000).openapi({ description: "Page size; <= 0 means 500" }),
  offset: intQuery(0, 0, Number.MAX_SAFE_INTEGER),
});

export const ContentQuery = z.object({
  access_action: z.enum(["content", "preview", "download"]).optional(),
  access: z.enum(["content", "preview", "download"]).optional(),
});

export const ArtifactItem = z.object({
  artifact_id: z.string(),
  run_id: z.string().nullable(),
  content_type: z.string(),
  size_bytes: z.number().int(),
  created_at: z.string(),
  tags: z.record(z.string(), z.string()),
  filename: z.string().nullable(),
  source_path: z.string().nullable(),
  sha256: z.string(),
  modality: z.string(),
  ref: z.object({ $artifact: z.string() }),
  session_id: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  descriptor: z.record(z.string(), z.unknown()),
  access: z.record(z.string(), z.string()),
  artifact_envelope_v1: z.record(z.string(), z.unknown()),
}).openapi("ArtifactListItem");

export const ArtifactList = z.object({
  items: z.array(ArtifactItem),
  total: z.number().int(),
  offset: z.number().int(),
  limit: z.number().int(),
  has_more: z.boolean(),
  cursor: z.string().nullable(),
  next_cursor: z.string().nullable(),
  facets: z.record(z.string(), z.unknown()),
  stats: z.record(z.string(), z.unknown()),
  warnings: z.array(z.string()),
}).openapi("ArtifactList");

export const ArtifactMetadata = z.object({
  artifact_id: z.string(),
  blob_id: z.string(),
  content_type: z.string(),
  size_bytes: z.number().int(),
  created_at: z.string(),
  run_id: z.string().nullable(),
  tags: z.record(z.string(), z.string()),
  metadata: z.record(z.string(), z.unknown()),
  descriptor: z.record(z.string(), z.unknown()),
  access: z.record(z.string(), z.unknown()),
  artifact_envelope_v1: z.record(z.string(), z.unknown()),
}).openapi("ArtifactMetadata");
