/**
 * `GET /runs/{run_id}/history_bundle` (version 1): everything a client needs to render a run
 * offline: the run, its workflow snapshot, its input, its ledgers (and its sub-runs'), a merged
 * timeline and optionally the session's turns. Ledger cursors are 1-based absolute positions.
 */
import type { Json, JsonObject, RunState } from "../runtime/types.ts";
import type { ArtifactMeta, Stores } from "../store/types.ts";
import { nowIso } from "../util/time.ts";
import { publicVars } from "./run_input.ts";
import { runCore } from "./run_summary.ts";

export const SNAPSHOT_KIND = "visualflow_json";
const MAX_SUBRUNS = 500;

export interface HistoryOptions {
  includeSubruns: boolean;
  includeSession: boolean;
  sessionTurnLimit: number;
  /** 0 = full ledger. */
  ledgerMaxItems: number;
}

function runView(run: RunState): JsonObject {
  return { ...runCore(run), waiting: run.waiting as unknown as Json };
}

function artifactRef(meta: ArtifactMeta): JsonObject {
  return {
    artifact_id: meta.artifact_id,
    content_type: meta.content_type,
    size_bytes: meta.size_bytes,
    created_at: meta.created_at,
    tags: meta.tags,
    filename: meta.filename,
  };
}

/** Milliseconds between two ISO stamps; null when either is missing or unreadable. */
function durationMs(start: Json | undefined, end: Json | undefined): number | null {
  if (typeof start !== "string" || typeof end !== "string") return null;
  const ms = Date.parse(end) - Date.parse(start);
  return Number.isFinite(ms) ? Math.max(0, Math.round(ms)) : null;
}

function findSnapshot(artifacts: ArtifactMeta[]): ArtifactMeta | undefined {
  return artifacts.find((a) => a.tags.kind === SNAPSHOT_KIND);
}

async function descendants(stores: Stores, root: string): Promise<RunState[]> {
  const out: RunState[] = [];
  const queue = [root];
  while (queue.length && out.length < MAX_SUBRUNS) {
    for (const child of await stores.runs.listChildren(queue.shift()!)) {
      out.push(child);
      queue.push(child.run_id);
    }
  }
  return out;
}

async function ledgerView(stores: Stores, runId: string, maxItems: number) {
  const total = await stores.ledger.count(runId);
  const start = maxItems > 0 && total > maxItems ? total - maxItems : 0;
  const items: { cursor: number; record: Json }[] = [];
  let after = start;
  while (after < total) {
    const page = await stores.ledger.read(runId, after, 2000);
    if (page.items.length === 0) break;
    for (const record of page.items) items.push({ cursor: ++after, record: record as unknown as Json });
  }
  const artifacts = (await stores.artifacts.listByRun(runId)).map(artifactRef);
  return {
    run_id: runId,
    total,
    cursor_start: items.length ? start + 1 : start,
    cursor_end: after,
    items,
    artifacts,
  };
}

async function sessionView(stores: Stores, sessionId: string, limit: number): Promise<JsonObject> {
  const page = await stores.runs.list({ sessionId, limit: Math.min(500, limit * 2) });
  const turns = page.items
    .filter((r) => r.parent_run_id === null && !r.workflow_id.startsWith("__"))
    .slice(0, limit)
    .reverse()
    .map((r): JsonObject => {
      const output = r.output ?? {};
      const answer = output.response ?? output.answer ?? output.result ?? null;
      return {
        run_id: r.run_id,
        workflow_id: r.workflow_id,
        kind: "run",
        status: r.status,
        created_at: r.created_at,
        updated_at: r.updated_at,
        prompt: typeof r.vars.prompt === "string" ? r.vars.prompt : null,
        answer: answer as Json,
        attachments: [],
        stats: {},
        artifacts: [],
      };
    });
  return { session_id: sessionId, turns };
}

export async function historyBundle(stores: Stores, run: RunState, o: HistoryOptions): Promise<JsonObject> {
  const runs = [run, ...(o.includeSubruns ? await descendants(stores, run.run_id) : [])];
  const ledgers: Record<string, Json> = {};
  const timeline: JsonObject[] = [];
  for (const r of runs) {
    const view = await ledgerView(stores, r.run_id, o.ledgerMaxItems);
    ledgers[r.run_id] = view as unknown as Json;
    for (const { cursor, record } of view.items) {
      const rec = record as JsonObject;
      timeline.push({
        run_id: r.run_id,
        cursor,
        step_id: rec.step_id,
        node_id: rec.node_id,
        status: rec.status,
        effect_type: (rec.effect as JsonObject | null)?.type ?? null,
        started_at: rec.started_at,
        ended_at: rec.ended_at,
        duration_ms: durationMs(rec.started_at, rec.ended_at),
      });
    }
  }
  timeline.sort((a, b) => String(a.started_at).localeCompare(String(b.started_at)));
  const snapshot = findSnapshot(await stores.artifacts.listByRun(run.run_id));
  return {
    version: 1,
    generated_at: nowIso(),
    root_run_id: run.run_id,
    run: runView(run),
    workflow_snapshot: snapshot
      ? {
        artifact_id: snapshot.artifact_id,
        sha256: snapshot.blob_id,
        content_type: snapshot.content_type,
        size_bytes: snapshot.size_bytes,
        workflow_id: run.workflow_id,
        format: SNAPSHOT_KIND,
        created_at: snapshot.created_at,
      }
      : null,
    input_data: publicVars(run.vars),
    ledgers,
    timeline,
    session: o.includeSession && run.session_id
      ? await sessionView(stores, run.session_id, o.sessionTurnLimit)
      : null,
  };
}
