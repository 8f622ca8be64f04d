/**
 * Operator tooling routes, mounted by the HTTP app under `/api/gateway`. Off by default: unless
 * ABSTRACTGATEWAY_ENABLE_TOOLING=1 every route answers 404 with an explanatory detail and
 * `/tooling/status` reports `enabled: false`. Admin-only enforcement is the security middleware's
 * route table (§4.5: `/files`, `/processes`, `/reports`); handlers here never see argv or paths
 * outside the configured roots.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import type { Config } from "../config/config.ts";
import type { AppEnv } from "../http/env.ts";
import { onError, RequestValidationError, validationItems } from "../http/errors.ts";
import { ToolingError } from "./errors.ts";
import { WorkspaceFiles } from "./files.ts";
import { ProcessManager } from "./processes.ts";
import { REPORT_KINDS, REPORT_STATUSES, ReportInbox, type ReportKind } from "./reports.ts";
import { TOOLING_DISABLED_DETAIL, toolingStatus } from "./status.ts";

export interface ToolingRoutesOptions {
  config: Pick<
    Config,
    "enableTooling" | "workspaceDir" | "workspaceMounts" | "toolingCommands" | "toolingMaxFileBytes"
  >;
  dataDir: string;
  /** Wait between SIGTERM and SIGKILL when stopping a process (default 5 s). */
  processGraceMs?: number;
}

export interface ToolingRoutes {
  app: Hono<AppEnv>;
  /** Stops every managed process. */
  close(): Promise<void>;
}

const PATHS: [method: "get" | "post", path: string][] = [
  ["get", "/files/list"],
  ["get", "/files/read"],
  ["post", "/files/write"],
  ["get", "/processes"],
  ["get", "/processes/:id"],
  ["post", "/processes/:id/start"],
  ["post", "/processes/:id/stop"],
  ["post", "/processes/:id/restart"],
  ["get", "/processes/:id/logs/tail"],
  ["post", "/reports"],
  ["post", "/bugs/report"],
  ["post", "/features/report"],
  ["get", "/reports"],
  ["get", "/reports/:id"],
  ["post", "/reports/:id/status"],
];

const WriteBody = z.strictObject({
  path: z.string().min(1),
  content: z.string(),
  encoding: z.enum(["utf-8", "base64"]).default("utf-8"),
  overwrite: z.boolean().default(false),
  mkdirs: z.boolean().default(false),
});

const ReportFields = {
  title: z.string().trim().min(1).max(200),
  body: z.string().max(64 * 1024).optional(),
  /** Upstream clients send `description`. */
  description: z.string().max(64 * 1024).optional(),
  reporter: z.string().max(200).optional(),
  context: z.record(z.string(), z.unknown()).optional(),
};
const ReportBody = z.strictObject({ kind: z.enum(REPORT_KINDS), ...ReportFields });
const AliasReportBody = z.strictObject(ReportFields);
const StatusBody = z.strictObject({ status: z.enum(REPORT_STATUSES), note: z.string().max(4000).optional() });
const ReportQuery = z.object({
  kind: z.enum(REPORT_KINDS).optional(),
  status: z.enum(REPORT_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(5000).optional(),
});
const TailQuery = z.object({ max_bytes: z.coerce.number().int().min(1).max(1024 * 1024).default(64 * 1024) });

export function toolingRoutes(options: ToolingRoutesOptions): ToolingRoutes {
  const { config } = options;
  const app = new Hono<AppEnv>();
  app.onError((err, c) => {
    if (err instanceof ToolingError) return c.json({ detail: err.detail }, err.status as 400);
    return onError(err, c);
  });
  const status = toolingStatus(config);
  app.get("/tooling/status", (c) => c.json(status));
  if (!config.enableTooling) {
    for (const [method, path] of PATHS) {
      app[method](path, (c) => c.json({ detail: TOOLING_DISABLED_DETAIL }, 404));
    }
    return { app, close: () => Promise.resolve() };
  }

  const files = new WorkspaceFiles({
    workspaceDir: config.workspaceDir,
    mounts: config.workspaceMounts,
    maxFileBytes: config.toolingMaxFileBytes,
  });
  const processes = new ProcessManager({
    commandsFile: config.toolingCommands,
    dataDir: options.dataDir,
    graceMs: options.processGraceMs,
  });
  const reports = new ReportInbox(options.dataDir);
  const needFiles = () => {
    if (!files.available) {
      throw new ToolingError(
        404,
        "No workspace roots configured (set ABSTRACTGATEWAY_WORKSPACE_DIR or ABSTRACTGATEWAY_WORKSPACE_MOUNTS)",
      );
    }
  };
  const needProcesses = () => {
    if (!processes.available) {
      throw new ToolingError(
        404,
        "No commands declared (set ABSTRACTGATEWAY_TOOLING_COMMANDS to a JSON file)",
      );
    }
  };

  app.get("/files/list", async (c) => {
    needFiles();
    return c.json(await files.list(c.req.query("path") ?? ""));
  });
  app.get("/files/read", async (c) => {
    needFiles();
    const path = c.req.query("path");
    if (!path) throw new ToolingError(400, "Query parameter 'path' is required");
    const { max_bytes } = parse("query", z.object({ max_bytes: z.coerce.number().int().min(1).optional() }), {
      max_bytes: c.req.query("max_bytes"),
    });
    return c.json(await files.read(path, max_bytes));
  });
  app.post("/files/write", async (c) => {
    needFiles();
    const body = parse("json", WriteBody, await jsonBody(c));
    const content = body.encoding === "base64" ? decodeBase64(body.content) : body.content;
    return c.json(await files.write(body.path, content, { overwrite: body.overwrite, mkdirs: body.mkdirs }));
  });

  app.get("/processes", async (c) => {
    needProcesses();
    return c.json({ processes: await processes.status() });
  });
  app.get("/processes/:id", async (c) => {
    needProcesses();
    return c.json(await processes.get(c.req.param("id")));
  });
  app.post("/processes/:id/start", async (c) => {
    needProcesses();
    return c.json(await processes.start(c.req.param("id")));
  });
  app.post("/processes/:id/stop", async (c) => {
    needProcesses();
    return c.json(await processes.stop(c.req.param("id")));
  });
  app.post("/processes/:id/restart", async (c) => {
    needProcesses();
    return c.json(await processes.restart(c.req.param("id")));
  });
  app.get("/processes/:id/logs/tail", async (c) => {
    needProcesses();
    const { max_bytes } = parse("query", TailQuery, c.req.query());
    return c.json(await processes.logsTail(c.req.param("id"), max_bytes));
  });

  const submit = async (c: Context<AppEnv>, kind: ReportKind | null) => {
    const raw = await jsonBody(c);
    const body = kind === null
      ? parse("json", ReportBody, raw)
      : { ...parse("json", AliasReportBody, raw), kind };
    const text = body.body ?? body.description;
    if (text === undefined) throw new ToolingError(400, "A report needs a 'body' (or 'description')");
    const report = await reports.submit({
      kind: body.kind,
      title: body.title,
      body: text,
      reporter: c.get("principal")?.user_id ?? body.reporter ?? null,
      context: body.context,
    });
    return c.json({ ok: true, report }, 201);
  };
  app.post("/reports", (c) => submit(c, null));
  app.post("/bugs/report", (c) => submit(c, "bug"));
  app.post("/features/report", (c) => submit(c, "feature"));
  app.get("/reports", async (c) => c.json(await reports.list(parse("query", ReportQuery, c.req.query()))));
  app.get("/reports/:id", async (c) => c.json(await reports.get(c.req.param("id"))));
  app.post("/reports/:id/status", async (c) => {
    const body = parse("json", StatusBody, await jsonBody(c));
    return c.json(await reports.updateStatus(c.req.param("id"), body.status, body.note ?? null));
  });

  return { app, close: () => processes.close() };
}

function parse<T extends z.ZodType>(target: string, schema: T, data: unknown): z.infer<T> {
  const result = schema.safeParse(data);
  if (!result.success) throw new RequestValidationError(validationItems(target, result.error, data));
  return result.data;
}

async function jsonBody(c: Context<AppEnv>): Promise<unknown> {
  try {
    return await c.req.json();
  } catch (err) {
    throw new ToolingError(400, `Invalid JSON body: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function decodeBase64(text: string): Uint8Array {
  try {
    return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
  } catch {
    throw new ToolingError(400, "'content' is not valid base64");
  }
}
