/** Changing bundles: upload, remove, reload, deprecate and undeprecate entrypoints. */
import { z } from "@hono/zod-openapi";
import type { App } from "../env.ts";
import { join } from "node:path";
import { spoolMultipart } from "../multipart.ts";
import { HttpError } from "../errors.ts";
import { lookupBundle } from "../bundle_lookup.ts";
import type { Gateway } from "../../gateway.ts";
import { errorText, logger } from "../../util/log.ts";
import { BUNDLES_CHANGED } from "../../store/wake.ts";
import { errorResponses, gatewayRoute, jsonContent } from "../schemas/common.ts";
import {
  BundleIdParam,
  DeprecateBody,
  RemoveQuery,
  UndeprecateBody,
  UploadForm,
  UploadResponse,
} from "../schemas/bundles.ts";

/** Under the data dir: uploads wait here while they are checked (crash leftovers are swept at start). */
const UPLOAD_SPOOL_DIR = "uploads";

const upload = gatewayRoute({
  method: "post",
  path: "/bundles/upload",
  tags: ["bundles"],
  summary: "Install a .flow bundle (multipart: file, overwrite=false, reload=true)",
  request: { body: { content: { "multipart/form-data": { schema: UploadForm } }, required: true } },
  responses: { 200: jsonContent(UploadResponse, "Installed"), ...errorResponses(400, 413) },
});

const remove = gatewayRoute({
  method: "delete",
  path: "/bundles/{bundle_id}",
  tags: ["bundles"],
  summary: "Remove a bundle's files (one version, or every version when bundle_version is omitted)",
  request: { params: BundleIdParam, query: RemoveQuery },
  responses: {
    200: jsonContent(
      z.object({
        ok: z.literal(true),
        bundle_ref: z.string(),
        removed: z.number().int(),
        gateway_reloaded: z.boolean(),
        gateway_reload_error: z.string().nullable(),
      }),
      "Removed",
    ),
    ...errorResponses(404),
  },
});

const reload = gatewayRoute({
  method: "post",
  path: "/bundles/reload",
  tags: ["bundles"],
  summary: "Re-read the bundles directory",
  responses: {
    200: jsonContent(
      z.object({ ok: z.literal(true), bundle_ids: z.array(z.string()), count: z.number().int() }),
      "Reloaded",
    ),
    ...errorResponses(500),
  },
});

const deprecate = gatewayRoute({
  method: "post",
  path: "/bundles/{bundle_id}/deprecate",
  tags: ["bundles"],
  summary: "Deprecate an entrypoint (or the whole bundle): hidden, cannot start or be scheduled",
  request: {
    params: BundleIdParam,
    body: { content: { "application/json": { schema: DeprecateBody } }, required: false },
  },
  responses: {
    200: jsonContent(
      z.object({
        ok: z.literal(true),
        bundle_id: z.string(),
        flow_id: z.string(),
        deprecated_at: z.string(),
        reason: z.string().optional(),
      }),
      "Deprecated",
    ),
    ...errorResponses(404),
  },
});

const undeprecate = gatewayRoute({
  method: "post",
  path: "/bundles/{bundle_id}/undeprecate",
  tags: ["bundles"],
  summary: "Remove a deprecation",
  request: {
    params: BundleIdParam,
    body: { content: { "application/json": { schema: UndeprecateBody } }, required: false },
  },
  responses: {
    200: jsonContent(
      z.object({ ok: z.literal(true), bundle_id: z.string(), flow_id: z.string(), removed: z.boolean() }),
      "Result",
    ),
    ...errorResponses(404),
  },
});

function formBool(value: unknown, fallback: boolean, field: string): boolean {
  if (value === undefined || value === null || value === "") return fallback;
  const s = String(value).trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(s)) return true;
  if (["0", "false", "no", "off"].includes(s)) return false;
  throw new HttpError(400, `${field} must be a boolean (true/false)`);
}

async function reloadQuietly(
  gw: Gateway,
): Promise<{ gateway_reloaded: boolean; gateway_reload_error: string | null }> {
  try {
    await gw.bundles.reload();
    return { gateway_reloaded: true, gateway_reload_error: null };
  } catch (err) {
    return { gateway_reloaded: false, gateway_reload_error: errorText(err) };
  }
}

const log = logger("bundles");

/**
 * Shared store (PostgreSQL): every other node reloads its flows dir (the same dir on shared storage),
 * so a bundle uploaded here can be started through any node. Best effort: the change itself is done.
 */
async function announceBundles(gw: Gateway): Promise<void> {
  await gw.stores.announce?.(BUNDLES_CHANGED).catch((err) =>
    log.warn("cannot tell the other nodes to reload bundles", { error: errorText(err) })
  );
}

export function registerBundleAdminRoutes(app: App, gw: Gateway): void {
  const { bundles } = gw;

  app.openapi(upload, async (c) => {
    const form = await spoolMultipart(c, {
      fileField: "file",
      dir: join(gw.config.dataDir, UPLOAD_SPOOL_DIR),
      maxFileBytes: gw.config.maxBundleBytes,
      label: "Bundle",
      expected: "Bundle upload must be multipart/form-data with a 'file' field",
    });
    let installed, wantReload;
    try {
      if (!form.file) throw new HttpError(400, "Missing multipart field 'file' (the .flow bundle)");
      if (form.file.size === 0) throw new HttpError(400, "Bundle content is empty");
      const overwrite = formBool(form.fields.get("overwrite"), false, "overwrite");
      wantReload = formBool(form.fields.get("reload"), true, "reload");
      installed = await bundles.install({ path: form.file.path }, { overwrite });
    } finally {
      await form.dispose();
    }
    await announceBundles(gw);
    const reloadResult = wantReload
      ? await reloadQuietly(gw)
      : { gateway_reloaded: false, gateway_reload_error: null };
    const m = installed.manifest;
    return c.json({
      ok: true as const,
      bundle_id: m.bundle_id,
      bundle_version: m.bundle_version,
      bundle_ref: installed.ref,
      sha256: installed.sha256,
      default_entrypoint: m.default_entrypoint,
      entrypoints: m.entrypoints.map((e) => ({
        flow_id: e.flow_id,
        name: e.name,
        description: e.description,
        interfaces: e.interfaces,
      })),
      ...reloadResult,
    }, 200);
  });

  app.openapi(remove, async (c) => {
    const { bundle_id } = c.req.valid("param");
    const q = c.req.valid("query");
    const at = bundle_id.indexOf("@");
    const id = at < 0 ? bundle_id : bundle_id.slice(0, at);
    const version = (at < 0 ? undefined : bundle_id.slice(at + 1)) || q.bundle_version?.trim() || undefined;
    const ref = version ? `${id}@${version}` : id;
    const removed = await bundles.remove(id, version);
    if (removed === 0) throw new HttpError(404, `Bundle '${ref}' not found`);
    await announceBundles(gw);
    const reloadResult = q.reload
      ? await reloadQuietly(gw)
      : { gateway_reloaded: false, gateway_reload_error: null };
    return c.json({ ok: true as const, bundle_ref: ref, removed, ...reloadResult }, 200);
  });

  app.openapi(reload, async (c) => {
    try {
      await bundles.reload();
      await bundles.deprecations.reload();
    } catch (err) {
      throw new HttpError(500, `Failed to reload bundles: ${errorText(err)}`);
    }
    await announceBundles(gw);
    const ids = [...new Set(bundles.list().map((b) => b.manifest.bundle_id))].sort();
    return c.json({ ok: true as const, bundle_ids: ids, count: ids.length }, 200);
  });

  app.openapi(deprecate, async (c) => {
    const { bundle_id } = c.req.valid("param");
    const body = c.req.valid("json") ?? {};
    const bundle = lookupBundle(bundles, bundle_id.split("@")[0]);
    const id = bundle.manifest.bundle_id;
    const flowId = body.flow_id?.trim() || "*";
    if (flowId !== "*" && !bundle.manifest.entrypoints.some((e) => e.flow_id === flowId)) {
      throw new HttpError(404, `Entrypoint '${id}:${flowId}' not found`);
    }
    const rec = await bundles.deprecations.deprecate(id, flowId, body.reason?.trim() || undefined);
    await announceBundles(gw);
    return c.json({
      ok: true as const,
      bundle_id: id,
      flow_id: flowId,
      deprecated_at: rec.deprecated_at,
      ...(rec.reason ? { reason: rec.reason } : {}),
    }, 200);
  });

  app.openapi(undeprecate, async (c) => {
    const { bundle_id } = c.req.valid("param");
    const body = c.req.valid("json") ?? {};
    const id = lookupBundle(bundles, bundle_id.split("@")[0]).manifest.bundle_id;
    const flowId = body.flow_id?.trim() || "*";
    const removed = await bundles.deprecations.undeprecate(id, flowId);
    await announceBundles(gw);
    return c.json({ ok: true as const, bundle_id: id, flow_id: flowId, removed }, 200);
  });
}
