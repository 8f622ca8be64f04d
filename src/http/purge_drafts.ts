/**
 * Draft run retention (§5.6): deletes ephemeral `draft_test` run trees (runs, ledgers, artifacts,
 * gateway-owned workspaces) once expired, or on `force`. Manual only; dry run by default.
 * The command inbox is append-only, so commands that targeted a purged run are kept.
 */
import { join } from "node:path";
import type { Config } from "../config/config.ts";
import { isTerminal, type JsonObject, RUN_STATUSES, type RunState } from "../runtime/types.ts";
import type { Stores } from "../store/types.ts";
import { isoUtc } from "../util/time.ts";
import { runLifecycle } from "./run_summary.ts";

const DEFAULT_DRAFT_TTL_S = 86_400;
const WORKSPACE_DIR = /^[0-9a-f]{32}$/;
const MAX_TREE = 10_000;

export interface PurgeOptions {
  dryRun: boolean;
  limit: number;
  sessionId?: string;
  workflowId?: string;
  runIds?: string[];
  force: boolean;
  includeActive: boolean;
  deleteArtifacts: boolean;
  deleteWorkspaces: boolean;
}

async function tree(stores: Stores, root: RunState): Promise<RunState[]> {
  const out = [root];
  for (let i = 0; i < out.length && out.length < MAX_TREE; i++) {
    out.push(...await stores.runs.listChildren(out[i].run_id));
  }
  return out;
}

/** The run's own gateway workspace: `<data>/workspaces/<32hex>` whose marker names this run. */
async function ownedWorkspace(config: Config, run: RunState): Promise<string | null> {
  const root = run.vars.workspace_root;
  if (typeof root !== "string") return null;
  const base = join(config.dataDir, "workspaces");
  const name = root.slice(base.length + 1);
  if (!root.startsWith(base + "/") || !WORKSPACE_DIR.test(name)) return null;
  try {
    const marker = JSON.parse(await Deno.readTextFile(join(root, ".abstractgateway-workspace.json")));
    return marker?.owner === "abstractgateway" && marker.run_id === run.run_id ? root : null;
  } catch {
    return null;
  }
}

function expiry(run: RunState, lifecycle: JsonObject): number {
  const retention = (lifecycle.retention ?? {}) as JsonObject;
  if (typeof retention.expires_at === "string") return Date.parse(retention.expires_at);
  const ttl = typeof retention.ttl_s === "number" ? retention.ttl_s : DEFAULT_DRAFT_TTL_S;
  return Date.parse(run.updated_at || run.created_at) + ttl * 1000;
}

async function candidates(stores: Stores, o: PurgeOptions): Promise<(RunState | string)[]> {
  if (o.runIds) {
    return await Promise.all(
      o.runIds.slice(0, o.limit).map(async (id) => (await stores.runs.load(id)) ?? id),
    );
  }
  const out: RunState[] = [];
  let cursor: string | null = null;
  do {
    const page = await stores.runs.list({
      sessionId: o.sessionId,
      workflowId: o.workflowId,
      limit: 500,
      cursor,
    });
    for (const run of page.items) {
      if (run.parent_run_id === null && runLifecycle(run)?.purpose === "draft_test") out.push(run);
      if (out.length >= o.limit) break;
    }
    cursor = page.next_cursor;
  } while (cursor && out.length < o.limit);
  return out;
}

export async function purgeDrafts(stores: Stores, config: Config, o: PurgeOptions): Promise<JsonObject> {
  const items: JsonObject[] = [];
  let eligible = 0, purged = 0;
  const now = Date.now();
  for (const found of await candidates(stores, o)) {
    if (typeof found === "string") {
      items.push({ run_id: found, eligible: false, reason: "missing" });
      continue;
    }
    const run = found;
    const lifecycle = runLifecycle(run);
    const item: JsonObject = {
      run_id: run.run_id,
      status: run.status,
      workflow_id: run.workflow_id,
      session_id: run.session_id,
      run_lifecycle: lifecycle,
      eligible: false,
    };
    items.push(item);
    const retention = (lifecycle?.retention ?? {}) as JsonObject;
    if (lifecycle?.purpose !== "draft_test" || retention.mode !== "ephemeral") {
      item.reason = "not_ephemeral_draft";
      continue;
    }
    if (!isTerminal(run.status) && !o.includeActive) {
      item.reason = "active_run";
      continue;
    }
    const expires = expiry(run, lifecycle);
    if (Number.isNaN(expires)) {
      item.reason = "no_effective_expiration";
      continue;
    }
    item.effective_expires_at = isoUtc(new Date(expires));
    if (!o.force && expires > now) {
      item.reason = "not_expired";
      continue;
    }
    const members = await tree(stores, run);
    if (!o.includeActive && members.some((m) => !isTerminal(m.status))) {
      item.reason = "active_run_tree";
      continue;
    }
    item.eligible = true;
    eligible++;
    const workspaces = o.deleteWorkspaces
      ? (await Promise.all(members.map((m) => ownedWorkspace(config, m)))).filter((w): w is string =>
        w !== null
      )
      : [];
    if (o.dryRun) {
      item.would_delete = {
        runs: members.length,
        workspaces: workspaces.length,
        artifacts: null,
        ledger_records: null,
        commands: null,
      };
      continue;
    }
    const deleted = { runs: 0, ledger_records: 0, commands: 0, artifacts: 0, workspaces: 0 };
    for (const member of members.reverse()) {
      if (o.deleteArtifacts) {
        for (const a of await stores.artifacts.listByRun(member.run_id)) {
          if (await stores.artifacts.delete(a.artifact_id)) deleted.artifacts++;
        }
      }
      deleted.ledger_records += await stores.ledger.count(member.run_id);
      await stores.ledger.delete(member.run_id);
      if (await stores.runs.delete(member.run_id)) deleted.runs++;
    }
    for (const dir of workspaces) {
      await Deno.remove(dir, { recursive: true });
      deleted.workspaces++;
    }
    item.purge = { run_ids: members.map((m) => m.run_id), deleted, artifact_gc: null };
    purged++;
  }
  return {
    ok: true,
    dry_run: o.dryRun,
    policy: {
      purpose: "draft_test",
      retention_mode: "ephemeral",
      default_ttl_s: DEFAULT_DRAFT_TTL_S,
      terminal_statuses: RUN_STATUSES.filter(isTerminal),
    },
    scanned: items.length,
    eligible,
    purged,
    skipped: items.length - eligible,
    items,
  };
}
