/** Creating runs: `POST /runs/start` (with client idempotency keys). */
import type { App } from "../env.ts";
import { checkIdempotencyKey, StartKeys } from "../start_keys.ts";
import { prepareStart, startPrepared } from "../start_run.ts";
import type { Gateway } from "../../gateway.ts";
import { errorResponses, gatewayRoute, jsonContent } from "../schemas/common.ts";
import { RunIdResponse, StartRunBody, StartRunHeaders } from "../schemas/runs.ts";

const start = gatewayRoute({
  method: "post",
  path: "/runs/start",
  tags: ["runs"],
  summary: "Start a run of a bundle entrypoint (created as running; the runner advances it)",
  description: [
    "Give bundle_id (entrypoint = the only one or manifest.default_entrypoint) and/or flow_id.",
    "With `idempotency_key` (or the Idempotency-Key header) a retried start returns the same run_id;",
    "reusing a key for a different request is 409.",
    "404 unknown bundle/workflow, 409 deprecated workflow, 400 anything else that is wrong.",
  ].join(" "),
  request: {
    headers: StartRunHeaders,
    body: { content: { "application/json": { schema: StartRunBody } }, required: true },
  },
  responses: {
    200: jsonContent(RunIdResponse, "The new (or retried) run"),
    ...errorResponses(400, 404, 409),
  },
});

export function registerRunStartRoutes(app: App, gw: Gateway): void {
  const keys = new StartKeys(gw.config.dataDir);

  app.openapi(start, async (c) => {
    const body = c.req.valid("json");
    const { idempotency_key: bodyKey, ...request } = body;
    const rawKey = bodyKey ?? c.req.valid("header")["idempotency-key"];
    const launch = async (runId: string) => await startPrepared(gw, await prepareStart(gw, body), runId);
    if (rawKey === undefined || rawKey === null) {
      const runId = crypto.randomUUID();
      await launch(runId);
      return c.json({ run_id: runId }, 200);
    }
    const runId = await keys.runFor(
      checkIdempotencyKey(rawKey),
      request,
      launch,
      async (id) => (await gw.stores.runs.load(id)) !== null,
    );
    return c.json({ run_id: runId }, 200);
  });
}
