/** Reading bundles and workflows: list, inspect, flow JSON, input schema, any workflow's flow. */
import { bundleDetail, bundleList, inputSchema } from "../../bundles/inspect.ts";
import type { App } from "../env.ts";
import { HttpError } from "../errors.ts";
import { flowBody, lookupBundle, lookupFlow } from "../bundle_lookup.ts";
import { splitWorkflowId } from "../run_input.ts";
import type { Gateway } from "../../gateway.ts";
import type { JsonObject } from "../../runtime/types.ts";
import { errorResponses, gatewayRoute, jsonContent, JsonObjectSchema } from "../schemas/common.ts";
import {
  BundleFlowParams,
  BundleIdParam,
  BundleList,
  BundleListQuery,
  BundleVersionQuery,
  FlowResponse,
  WorkflowIdParam,
} from "../schemas/bundles.ts";

const list = gatewayRoute({
  method: "get",
  path: "/bundles",
  tags: ["bundles"],
  summary: "List installed bundles (latest published per id unless all_versions)",
  request: { query: BundleListQuery },
  responses: { 200: jsonContent(BundleList, "Bundles"), ...errorResponses() },
});

const inspect = gatewayRoute({
  method: "get",
  path: "/bundles/{bundle_id}",
  tags: ["bundles"],
  summary: "One bundle version: entrypoints with inputs and node index, flow ids",
  request: { params: BundleIdParam, query: BundleVersionQuery },
  responses: { 200: jsonContent(JsonObjectSchema, "The bundle"), ...errorResponses(400, 404) },
});

const flow = gatewayRoute({
  method: "get",
  path: "/bundles/{bundle_id}/flows/{flow_id}",
  tags: ["bundles"],
  summary: "The VisualFlow JSON of one flow of a bundle",
  request: { params: BundleFlowParams, query: BundleVersionQuery },
  responses: { 200: jsonContent(FlowResponse, "The flow"), ...errorResponses(400, 404) },
});

const schema = gatewayRoute({
  method: "get",
  path: "/bundles/{bundle_id}/flows/{flow_id}/input_schema",
  tags: ["bundles"],
  summary: "The flow's start inputs as JSON Schema",
  request: { params: BundleFlowParams, query: BundleVersionQuery },
  responses: { 200: jsonContent(JsonObjectSchema, "Input schema"), ...errorResponses(400, 404) },
});

const workflowFlow = gatewayRoute({
  method: "get",
  path: "/workflows/{workflow_id}/flow",
  tags: ["bundles"],
  summary: "The flow of any workflow id: a bundle workflow or a dynamic one (e.g. a schedule wrapper)",
  request: { params: WorkflowIdParam },
  responses: { 200: jsonContent(JsonObjectSchema, "The flow"), ...errorResponses(400, 404) },
});

export function registerBundleReadRoutes(app: App, gw: Gateway): void {
  const { bundles } = gw;

  app.openapi(list, (c) => {
    const q = c.req.valid("query");
    return c.json(
      bundleList(bundles, bundles.deprecations, {
        allVersions: q.all_versions,
        includeDrafts: q.include_drafts,
        includeDeprecated: q.include_deprecated,
      }),
      200,
    );
  });

  app.openapi(inspect, (c) => {
    const bundle = lookupBundle(bundles, c.req.valid("param").bundle_id, c.req.valid("query").bundle_version);
    return c.json(bundleDetail(bundle, bundles.deprecations), 200);
  });

  app.openapi(flow, (c) => {
    const { bundle_id, flow_id } = c.req.valid("param");
    const found = lookupFlow(bundles, bundle_id, flow_id, c.req.valid("query").bundle_version);
    return c.json(flowBody(found) as never, 200);
  });

  app.openapi(schema, (c) => {
    const { bundle_id, flow_id } = c.req.valid("param");
    const found = lookupFlow(bundles, bundle_id, flow_id, c.req.valid("query").bundle_version);
    const { flow: _flow, ...head } = flowBody(found);
    return c.json({ ...head, ...inputSchema(found.flow) } as never, 200);
  });

  app.openapi(workflowFlow, (c) => {
    const { workflow_id } = c.req.valid("param");
    const { prefix, flowId } = splitWorkflowId(workflow_id);
    if (prefix !== null && bundles.versions(prefix.split("@")[0]).length > 0) {
      return c.json(flowBody(lookupFlow(bundles, prefix, flowId)) as never, 200);
    }
    const dynamic = bundles.getWorkflow(workflow_id);
    if (!dynamic) throw new HttpError(404, `Workflow '${workflow_id}' not found`);
    return c.json({ workflow_id, flow: dynamic as unknown as JsonObject, source: "dynamic" }, 200);
  });
}
