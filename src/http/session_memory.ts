/**
 * The per-session owner run `session_memory_<sid>` (§3.7): an internal, completed run that owns a
 * session's artifacts (attachments, memory). Created on demand, never ticked.
 */
import type { RunState } from "../runtime/types.ts";
import type { RunStore } from "../store/types.ts";
import { nowIso } from "../util/time.ts";
import { sha256Hex } from "../util/hash.ts";

const SAFE = /^[A-Za-z0-9_-]+$/;
const PREFIX = "session_memory_";
const SESSION_MEMORY_WORKFLOW = "__session_memory__";

export function sessionMemoryRunId(sessionId: string): string {
  return SAFE.test(sessionId)
    ? `${PREFIX}${sessionId}`
    : `${PREFIX}sha_${(sha256Hex(sessionId)).slice(0, 32)}`;
}

/** The session id a `session_memory_<safe>` run id stands for, or null for any other id. */
export function sessionOfMemoryRunId(runId: string): string | null {
  if (!runId.startsWith(PREFIX)) return null;
  const sid = runId.slice(PREFIX.length);
  return sid && SAFE.test(sid) && !sid.startsWith("sha_") ? sid : null;
}

/** The owner run of `sessionId` as stored, or (not yet saved) as it would be created. */
async function sessionMemoryRun(
  runs: RunStore,
  sessionId: string,
): Promise<{ run: RunState; stored: boolean }> {
  const runId = sessionMemoryRunId(sessionId);
  const existing = await runs.load(runId);
  if (existing) return { run: existing, stored: true };
  const now = nowIso();
  const run: RunState = {
    run_id: runId,
    workflow_id: SESSION_MEMORY_WORKFLOW,
    status: "completed",
    // the fields upstream gives its owner runs, so clients that read them see the same run
    current_node: "done",
    vars: {
      context: { task: "", messages: [] },
      scratchpad: {},
      _runtime: { memory_spans: [] },
      _temp: {},
      _limits: {},
    },
    waiting: null,
    output: { messages: [] },
    error: null,
    created_at: now,
    updated_at: now,
    actor_id: null,
    session_id: sessionId,
    parent_run_id: null,
  };
  return { run, stored: false };
}

/** Loads the owner run of `sessionId`, creating it when missing (for writes such as uploads). */
export async function ensureSessionMemoryRun(runs: RunStore, sessionId: string): Promise<RunState> {
  const { run, stored } = await sessionMemoryRun(runs, sessionId);
  if (!stored) await runs.save(run);
  return run;
}

/**
 * For reads: the run, or for a `session_memory_<sid>` id the session's owner run — as it would be
 * created, without saving it (a GET never changes state); null when neither.
 */
export async function loadRunForRead(runs: RunStore, runId: string): Promise<RunState | null> {
  const run = await runs.load(runId);
  if (run) return run;
  const sid = sessionOfMemoryRunId(runId);
  return sid ? (await sessionMemoryRun(runs, sid)).run : null;
}
