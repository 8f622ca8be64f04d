/** WaitState construction and the synthetic pause wait (runtime-model.md §1.3). */
import type { JsonObject, WaitState } from "../types.ts";

export function makeWait(partial: Partial<WaitState> & Pick<WaitState, "reason">): WaitState {
  return {
    reason: partial.reason,
    wait_key: partial.wait_key ?? null,
    until: partial.until ?? null,
    resume_to_node: partial.resume_to_node ?? null,
    result_key: partial.result_key ?? null,
    prompt: partial.prompt ?? null,
    choices: partial.choices ?? null,
    allow_free_text: partial.allow_free_text ?? true,
    details: partial.details ?? null,
  };
}

export const pauseWaitKey = (runId: string): string => `pause:${runId}`;

export function pauseWait(runId: string, resumeTo: string | null): WaitState {
  return makeWait({
    reason: "user",
    wait_key: pauseWaitKey(runId),
    resume_to_node: resumeTo,
    prompt: "Paused",
    allow_free_text: false,
    details: { kind: "pause" } as JsonObject,
  });
}

export const isPauseWait = (runId: string, wait: WaitState | null): boolean =>
  wait !== null && wait.wait_key === pauseWaitKey(runId);
