/** Schemas of the bundle and workflow routes. */
import { z } from "@hono/zod-openapi";
import { boolQuery, JsonObjectSchema } from "./common.ts";

export const BundleIdParam = z.object({
  bundle_id: z.string().min(1).openapi({
    param: { name: "bundle_id", in: "path" },
    description: "`id` or `id@ver`",
  }),
});

export const BundleFlowParams = BundleIdParam.extend({
  flow_id: z.string().min(1).openapi({
    param: { name: "flow_id", in: "path" },
    description: "`flow` or `bundle[@ver]:flow`",
  }),
});

export const WorkflowIdParam = z.object({
  workflow_id: z.string().min(1).openapi({ param: { name: "workflow_id", in: "path" } }),
});

export const BundleListQuery = z.object({
  all_versions: boolQuery(false),
  include_drafts: boolQuery(false),
  include_deprecated: boolQuery(false),
});

export const BundleVersionQuery = z.object({ bundle_version: z.string().optional() });

export const RemoveQuery = z.object({ bundle_version: z.string().optional(), reload: boolQuery(true) });

export const DeprecateBody = z.object({ flow_id: z.string().nullish(), reason: z.string().nullish() })
  .openapi("DeprecateRequest");
export const UndeprecateBody = z.object({ flow_id: z.string().nullish() }).openapi("UndeprecateRequest");

export const BundleList = z.object({
  items: z.array(JsonObjectSchema),
  default_bundle_id: z.string().nullable(),
}).openapi("BundleList");

export const FlowResponse = z.object({
  bundle_id: z.string(),
  bundle_version: z.string(),
  bundle_ref: z.string(),
  flow_id: z.string(),
  workflow_id: z.string(),
  flow: JsonObjectSchema,
}).openapi("BundleFlow");

export const UploadForm = {
  type: "object" as const,
  required: ["file"],
  properties: {
    file: { type: "string" as const, format: "binary", description: "The .flow bundle (zip)" },
    overwrite: { type: "boolean" as const, default: false },
    reload: { type: "boolean" as const, default: true },
  },
};

export const UploadResponse = z.object({
  ok: z.literal(true),
  bundle_id: z.string(),
  bundle_version: z.string(),
  bundle_ref: z.string(),
  sha256: z.string(),
  default_entrypoint: z.string().nullable(),
  entrypoints: z.array(JsonObjectSchema),
  gateway_reloaded: z.boolean(),
  gateway_reload_error: z.string().nullable(),
}).openapi("BundleUploaded");
