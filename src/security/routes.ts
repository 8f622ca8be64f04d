/** Route classes the security pipeline needs: admin-only families, upload routes and SSE streams. */

const BASE = "/api/gateway";

/** Prefix families that only admins may reach, with their resource class. */
const ADMIN_PREFIXES: [string, string][] = [
  ["/admin", "admin"],
  ["/audit", "audit"],
  ["/processes", "processes"],
  ["/backlog", "backlog"],
  ["/triage", "triage"],
  ["/reports", "reports"],
  ["/email", "email"],
  ["/host", "host"],
  ["/files", "workspace"],
];

const ADMIN_EXACT: Record<string, string> = {
  "/models/loaded": "models",
  "/models/load": "models",
  "/models/unload": "models",
  "/artifacts/import": "workspace",
  "/attachments/ingest": "workspace",
};

/** Families whose writes are admin-only (reads are open to every principal). */
const ADMIN_WRITE_PREFIXES: [string, string][] = [
  ["/blocs", "blocs"],
  ["/prompt_cache", "prompt_cache"],
];

const RUN_ARTIFACT_EXPORT = /^\/runs\/[^/]+\/artifacts\/[^/]+\/export$/;

/**
 * Canonical form of a routed path for matching: repeated slashes collapsed, trailing slash dropped,
 * lower-cased (so no spelling of an admin path slips past the table even if routing were lenient).
 */
function canonicalPath(path: string): string {
  // Each request asks several times in a row (stream? upload? admin?): the last answer is kept.
  if (path === lastPath) return lastCanonical;
  const collapsed = path.replace(/\/{2,}/g, "/").toLowerCase();
  lastPath = path;
  lastCanonical = collapsed.length > 1 && collapsed.endsWith("/") ? collapsed.slice(0, -1) : collapsed;
  return lastCanonical;
}
let lastPath = "";
let lastCanonical = "";

const underPrefix = (rel: string, prefix: string): boolean => rel === prefix || rel.startsWith(`${prefix}/`);

/**
 * The resource class of an admin-only route, or null for routes every authenticated principal may use.
 * `path` is the decoded routing path (Hono's `c.req.path`).
 */
export function adminResourceClass(path: string, isWrite: boolean): string | null {
  const p = canonicalPath(path);
  if (!underPrefix(p, BASE)) return null;
  const rel = p.slice(BASE.length);
  for (const [prefix, cls] of ADMIN_PREFIXES) if (underPrefix(rel, prefix)) return cls;
  if (ADMIN_EXACT[rel]) return ADMIN_EXACT[rel];
  if (RUN_ARTIFACT_EXPORT.test(rel)) return "workspace";
  if (isWrite) { for (const [prefix, cls] of ADMIN_WRITE_PREFIXES) if (underPrefix(rel, prefix)) return cls; }
  return null;
}

/** Which upload cap applies to a path, if it is an upload route. */
export function uploadKind(path: string): "attachment" | "bundle" | null {
  const p = canonicalPath(path);
  if (p.endsWith("/attachments/upload")) return "attachment";
  if (p.endsWith("/bundles/upload")) return "bundle";
  return null;
}

/** SSE streams (ledgers, run changes) use their own concurrency pool and have no request timeout. */
export function isStreamPath(path: string): boolean {
  const p = canonicalPath(path);
  return p.endsWith("/ledger/stream") || p.endsWith("/runs/changes/stream");
}
