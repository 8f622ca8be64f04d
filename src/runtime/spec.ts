/**
 * Executable workflow shapes. VisualFlow JSON is compiled into a WorkflowSpec (src/runtime/visualflow/);
 * programmatic workflows (the ReAct agent, schedule wrappers) are WorkflowSpecs too. Specs are never
 * persisted: only RunState and the ledger are.
 */
import type { Effect, Json, JsonObject, RunState, StepRecord, WaitState } from "./types.ts";
import type { ArtifactMeta } from "../store/types.ts";

/** What a node handler asks the runtime to do next (runtime-model.md §1.5). */
export interface StepPlan {
  node_id: string;
  effect?: Effect;
  next_node?: string | null;
  complete_output?: JsonObject;
}

export interface NodeContext {
  /** Node the engine will resume to by default after a wait (the plan's next_node). */
  readonly nowIso: () => string;
}

export type NodeHandler = (run: RunState, ctx: NodeContext) => StepPlan | Promise<StepPlan>;

export interface WorkflowSpec {
  workflow_id: string;
  entry_node: string;
  nodes: Record<string, NodeHandler>;
  /** Workflow ids started as event-listener children when a run of this workflow starts (On Event nodes). */
  event_listeners?: string[];
}

export type EffectOutcome =
  | { status: "completed"; result: Json }
  | { status: "waiting"; wait: WaitState }
  | { status: "failed"; error: string };

/** Services the engine gives effect handlers (starting child runs, reading the ledger, …). */
export interface EffectServices {
  startChild(options: {
    workflowId: string;
    vars: JsonObject;
    sessionId?: string | null;
    /** A fixed id (derived from the step id) so a re-executed interrupted step finds its child again. */
    runId?: string | null;
  }): Promise<RunState>;
  tick(runId: string, maxSteps?: number): Promise<RunState>;
  loadRun(runId: string): Promise<RunState | null>;
  readLedger(runId: string): Promise<StepRecord[]>;
  /** Used by handlers for deterministic ids/keys. */
  nowIso(): string;
  /** Stores bytes as an artifact of the current run (media outputs). */
  storeArtifact(
    bytes: Uint8Array,
    options: { content_type: string; filename?: string; tags?: Record<string, string> },
  ): Promise<ArtifactMeta>;
  /** Bytes of an artifact (media inputs), or null when unknown. */
  loadArtifact(artifactId: string): Promise<{ meta: ArtifactMeta; content: Uint8Array } | null>;
}

export interface EffectContext {
  run: RunState;
  effect: Effect;
  node_id: string;
  step_id: string;
  attempt: number;
  idempotency_key: string;
  services: EffectServices;
  signal?: AbortSignal;
  /**
   * The answer a person gave to this effect's tool-approval wait. Set only by the engine when it
   * resumes that wait (never from a payload), so a workflow cannot approve its own calls.
   */
  approval?: JsonObject;
}

/** One handler per effect type; hosts register the LLM/tool ones (src/runtime/llm/). */
export type EffectHandler = (ctx: EffectContext) => Promise<EffectOutcome>;
