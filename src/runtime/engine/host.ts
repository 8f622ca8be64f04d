/** What the engine functions need from the runtime that owns them (implemented by WorkflowRuntime). */
import type { EffectHandler, WorkflowSpec } from "../spec.ts";
import type { ResumeOptions, StartRunOptions } from "../runtime.ts";
import type { Effect, RunState } from "../types.ts";
import type { Stores } from "../../store/types.ts";

export interface RetryPolicy {
  maxAttempts(effect: Effect): number;
  backoffSeconds(effect: Effect, attempt: number): number;
}

/** Upstream default: one attempt, exponential backoff (1 s base, 60 s cap) if a policy allows more. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: () => 1,
  backoffSeconds: (_effect, attempt) => Math.min(60, 2 ** (attempt - 1)),
};

export interface EngineHost {
  readonly stores: Stores;
  readonly retryPolicy: RetryPolicy;
  spec(workflowId: string): WorkflowSpec | undefined;
  effectHandler(type: string): EffectHandler | undefined;
  start(options: StartRunOptions): Promise<RunState>;
  tick(runId: string, maxSteps?: number): Promise<RunState>;
  resume(runId: string, options: ResumeOptions): Promise<RunState>;
}
