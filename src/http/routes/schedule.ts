/** `POST /runs/schedule`: a wrapper run that starts the target workflow on a schedule (§3.5, §5.5). */
import type { App } from "../env.ts";
import { HttpError } from "../errors.ts";
import { ensureSessionMemoryRun } from "../session_memory.ts";
import type { Gateway } from "../../gateway.ts";
import { createScheduledRun, ScheduleError } from "../../runner/schedule.ts";
import { errorResponses, gatewayRoute, jsonContent } from "../schemas/common.ts";
import { RunIdResponse, ScheduleRunBody } from "../schemas/runs.ts";

const schedule = gatewayRoute({
  method: "post",
  path: "/runs/schedule",
  tags: ["runs"],
  summary: "Schedule a bundle entrypoint: once, N times on an interval, until a time, forever, or by cron",
  description: "Returns the parent (wrapper) run id; each execution is a child run. " +
    "400 invalid timing, 404 unknown target, 409 deprecated target.",
  request: { body: { content: { "application/json": { schema: ScheduleRunBody } }, required: true } },
  responses: { 200: jsonContent(RunIdResponse, "The parent run"), ...errorResponses(400, 404, 409) },
});

export function registerScheduleRoutes(app: App, gw: Gateway): void {
  app.openapi(schedule, async (c) => {
    const body = c.req.valid("json");
    const sessionId = body.session_id?.trim();
    let result;
    try {
      result = await createScheduledRun(gw, body);
    } catch (err) {
      if (err instanceof ScheduleError) throw new HttpError(err.status, err.message);
      throw err;
    }
    if (sessionId) await ensureSessionMemoryRun(gw.stores.runs, sessionId);
    gw.runner?.kick();
    return c.json(result, 200);
  });
}
