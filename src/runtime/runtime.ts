/** The runtime facade the HTTP API and the runner talk to. Implemented by `WorkflowRuntime`. */
import type { JsonObject, RunState } from "./types.ts";

export interface StartRunOptions {
  workflowId: string;
  vars: JsonObject;
  /** Defaults to the new run's own id for root runs, to the parent's session for children. */
  sessionId?: string | null;
  parentRunId?: string | null;
  /** Defaults to "gateway" (the runner only ticks gateway-owned runs). */
  actorId?: string;
  runId?: string;
}

export interface ResumeOptions {
  waitKey?: string | null;
  payload: JsonObject;
  /** Steps to execute inline after resuming; the gateway passes 0 and lets the runner tick. */
  maxSteps?: number;
}

export interface TickOptions {
  /** The run as the caller loaded it. */
  run?: RunState;
  /**
   * True while nothing but this tick wrote the run since the caller loaded it (checked inside each
   * `checkpoint`): the tick then goes on from the state in hand instead of re-reading the run.
   */
  unchanged?: () => boolean;
  /**
   * Wraps each re-read of the run with the checkpoint written after it (a step's two halves around its
   * effect), so that a writer sharing the section (a pause, a cancel) cannot land in between.
   */
  checkpoint?: <T>(fn: () => Promise<T>) => Promise<T>;
}

export interface ExternalEvent {
  name: string;
  scope?: "session" | "workflow" | "run" | "global";
  sessionId?: string | null;
  workflowId?: string | null;
  runId?: string | null;
  payload: JsonObject;
  eventId?: string | null;
  emittedAt?: string | null;
  clientId?: string | null;
}

export interface EventDelivery {
  wait_key: string;
  delivered: number;
  resumed: { run_id: string; status: string }[];
  errors: { run_id: string; error: string }[];
}

export interface Runtime {
  /** Creates and persists a `running` run (and its event-listener children); does not tick it. */
  start(options: StartRunOptions): Promise<RunState>;
  /** Advances a run until it waits, ends, or `maxSteps` (default 100) steps ran; checkpoints each step. */
  tick(runId: string, maxSteps?: number, options?: TickOptions): Promise<RunState>;
  /** Answers the run's current wait. Throws on paused / not waiting / wait_key mismatch. */
  resume(runId: string, options: ResumeOptions): Promise<RunState>;
  pause(runId: string, reason?: string | null): Promise<RunState>;
  /** Clears the paused flag; a synthetic pause wait returns the run to `running`. */
  unpause(runId: string): Promise<RunState>;
  cancel(runId: string, reason?: string | null): Promise<RunState>;
  /** Resumes every run waiting on the event's wait key; one failing run does not stop the others. */
  emitEvent(event: ExternalEvent): Promise<EventDelivery>;
  /** After a child became terminal: resume every parent waiting on it (subworkflow waits). */
  resumeParentsOf(childRunId: string): Promise<string[]>;
}
