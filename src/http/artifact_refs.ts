/** Validation of `{"$artifact": id, run_id?}` references inside a new run's input (§3.5 step 7). */
import type { Json } from "../runtime/types.ts";
import type { ArtifactStore } from "../store/types.ts";
import { HttpError } from "./errors.ts";
import { sessionMemoryRunId } from "./session_memory.ts";

interface Ref {
  id: string;
  runId: string | null;
}

function collectRefs(value: Json, out: Ref[], depth = 0): void {
  if (depth > 64 || value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    for (const v of value) collectRefs(v, out, depth + 1);
    return;
  }
  const id = value.$artifact;
  if (typeof id === "string") {
    out.push({ id, runId: typeof value.run_id === "string" ? value.run_id : null });
    return;
  }
  for (const v of Object.values(value)) collectRefs(v, out, depth + 1);
}

export async function validateArtifactRefs(
  input: Json,
  artifacts: ArtifactStore,
  sessionId: string | null,
): Promise<void> {
  const refs: Ref[] = [];
  collectRefs(input, refs);
  const sessionRun = sessionId ? sessionMemoryRunId(sessionId) : null;
  for (const ref of refs) {
    const meta = await artifacts.getMetadata(ref.id);
    if (!meta) throw new HttpError(404, `Artifact '${ref.id}' not found`);
    if (ref.runId !== null) {
      if (meta.run_id !== ref.runId) {
        throw new HttpError(400, `Artifact '${ref.id}' does not belong to run '${ref.runId}'`);
      }
      continue;
    }
    if (!sessionId) {
      throw new HttpError(400, `Artifact '${ref.id}' needs a run_id (or start the run with a session_id)`);
    }
    if (meta.run_id !== sessionRun && meta.tags.session_id !== sessionId) {
      throw new HttpError(404, `Artifact '${ref.id}' not found in session '${sessionId}'`);
    }
  }
}
