/**
 * The runtime facade: resolves workflow ids to specs (compiled VisualFlows, cached; programmatic specs),
 * owns the effect handlers, and implements start/tick/resume/pause/unpause/cancel/emitEvent.
 */
import type { Config } from "../config/config.ts";
import type { LoadedBundle, VisualFlow } from "../bundles/types.ts";
import type { Stores } from "../store/types.ts";
import type {
  EventDelivery,
  ExternalEvent,
  ResumeOptions,
  Runtime,
  StartRunOptions,
  TickOptions,
} from "./runtime.ts";
import type { EffectHandler, WorkflowSpec } from "./spec.ts";
import type { JsonObject, RunState } from "./types.ts";
import { configOutboundPolicy } from "../security/outbound.ts";
import { createLlmEffectHandlers, reactAgentSpec } from "./llm/mod.ts";
import {
  answerUserHandler,
  askUserHandler,
  waitEventHandler,
  waitUntilHandler,
} from "./engine/builtin_effects.ts";
import { cancelRun, pauseRun, unpauseRun } from "./engine/control.ts";
import { emitEventHandler, emitExternalEvent } from "./engine/events.ts";
import { DEFAULT_RETRY_POLICY, type EngineHost, type RetryPolicy } from "./engine/host.ts";
import { resumeRun } from "./engine/resume.ts";
import { startRun } from "./engine/start.ts";
import { resumeParentsOf, startSubworkflowHandler } from "./engine/subworkflow.ts";
import { tickRun } from "./engine/tick.ts";
import { compileVisualFlow } from "./visualflow/compile.ts";
import { logger } from "../util/log.ts";

/** Where VisualFlows come from: a BundleRegistry, or anything with `getWorkflow` (tests). */
export interface WorkflowSource {
  getWorkflow(workflowId: string): VisualFlow | undefined;
  /** Lets derived ids (agent children, event listeners) be resolved after a restart. */
  list?(): LoadedBundle[];
}

export interface WorkflowRuntimeOptions {
  stores: Stores;
  workflows: WorkflowSource;
  config: Config;
  effectHandlers?: Record<string, EffectHandler>;
  specs?: Map<string, WorkflowSpec> | ((workflowId: string) => WorkflowSpec | undefined);
  retryPolicy?: RetryPolicy;
}

const DERIVED_PREFIXES = ["visual_react_agent_", "visual_event_listener_"];

const log = logger("runtime");

export class WorkflowRuntime implements Runtime, EngineHost {
  readonly stores: Stores;
  readonly retryPolicy: RetryPolicy;
  private readonly workflows: WorkflowSource;
  private readonly handlers = new Map<string, EffectHandler>();
  private readonly extraSpecs: (workflowId: string) => WorkflowSpec | undefined;
  /** Compiled specs by workflow id, each remembering the VisualFlow object it came from. */
  private readonly compiled = new Map<string, { flow: VisualFlow | null; spec: WorkflowSpec }>();
  private readonly runtimeSeed: JsonObject;

  constructor(options: WorkflowRuntimeOptions) {
    this.stores = options.stores;
    this.workflows = options.workflows;
    this.retryPolicy = options.retryPolicy ?? DEFAULT_RETRY_POLICY;
    const specs = options.specs;
    this.extraSpecs = typeof specs === "function" ? specs : (id) => specs?.get(id);
    const c = options.config;
    const llm = createLlmEffectHandlers({
      baseUrl: c.llmBaseUrl,
      model: c.llmModel,
      modelOverride: c.llmModelOverride,
      apiKey: c.llmApiKey,
      providers: c.llmProviders,
      mediaBaseUrl: c.mediaBaseUrl,
      mediaApiKey: c.mediaApiKey,
      timeoutS: c.llmTimeoutS,
      maxRetries: c.llmMaxRetries,
      toolMode: c.toolMode,
      toolContext: { commands: c.toolCommands ?? [] },
      outbound: configOutboundPolicy(c),
    });
    const builtin: Record<string, EffectHandler> = {
      ask_user: askUserHandler,
      answer_user: answerUserHandler,
      wait_event: waitEventHandler,
      wait_until: waitUntilHandler,
      emit_event: emitEventHandler(this),
      start_subworkflow: startSubworkflowHandler(this),
    };
    for (const [type, handler] of Object.entries({ ...builtin, ...llm, ...options.effectHandlers })) {
      this.handlers.set(type, handler);
    }
    this.runtimeSeed = {};
    if (c.promptCache !== undefined) this.runtimeSeed.prompt_cache = { enabled: c.promptCache, version: 1 };
    if (c.maxAttachmentBytes) this.runtimeSeed.max_attachment_bytes = c.maxAttachmentBytes;
    if (c.flowsDir) this.runtimeSeed.workflow_bundles_dir = c.flowsDir;
  }

  effectHandler(type: string): EffectHandler | undefined {
    return this.handlers.get(type);
  }

  spec(workflowId: string): WorkflowSpec | undefined {
    const extra = this.extraSpecs(workflowId);
    if (extra) return extra;
    const flow = this.workflows.getWorkflow(workflowId);
    if (flow) return this.compileCached(workflowId, flow);
    const derived = this.compiled.get(workflowId);
    if (derived) return derived.spec;
    if (DERIVED_PREFIXES.some((p) => workflowId.startsWith(p))) return this.findDerived(workflowId);
    return undefined;
  }

  /** Compiles once per VisualFlow object (a bundle reload hands out new objects → recompiled). */
  private compileCached(workflowId: string, flow: VisualFlow): WorkflowSpec {
    const hit = this.compiled.get(workflowId);
    if (hit && hit.flow === flow) return hit.spec;
    const compiled = compileVisualFlow(flow, { workflowId, agentSpec: reactAgentSpec });
    this.compiled.set(workflowId, { flow, spec: compiled.spec });
    for (const [id, spec] of compiled.derived) this.compiled.set(id, { flow: null, spec });
    return compiled.spec;
  }

  private findDerived(workflowId: string): WorkflowSpec | undefined {
    for (const bundle of this.workflows.list?.() ?? []) {
      for (const flow of Object.values(bundle.flows)) {
        this.compileCached(flow.id, flow);
        const hit = this.compiled.get(workflowId);
        if (hit) return hit.spec;
      }
    }
    return undefined;
  }

  async start(options: StartRunOptions): Promise<RunState> {
    const run = await startRun(this, options, this.runtimeSeed);
    log.info("run started", {
      run_id: run.run_id,
      workflow_id: run.workflow_id,
      session_id: run.session_id ?? undefined,
      parent_run_id: run.parent_run_id ?? undefined,
    });
    return run;
  }

  tick(runId: string, maxSteps?: number, options?: TickOptions): Promise<RunState> {
    return tickRun(this, runId, maxSteps, options);
  }

  resume(runId: string, options: ResumeOptions): Promise<RunState> {
    return resumeRun(this, runId, options);
  }

  pause(runId: string, reason?: string | null): Promise<RunState> {
    return pauseRun(this, runId, reason);
  }

  unpause(runId: string): Promise<RunState> {
    return unpauseRun(this, runId);
  }

  async cancel(runId: string, reason?: string | null): Promise<RunState> {
    const run = await cancelRun(this, runId, reason);
    log.info("run cancelled", { run_id: runId, workflow_id: run.workflow_id, reason: reason ?? undefined });
    return run;
  }

  emitEvent(event: ExternalEvent): Promise<EventDelivery> {
    return emitExternalEvent(this, event);
  }

  resumeParentsOf(childRunId: string): Promise<string[]> {
    return resumeParentsOf(this, childRunId);
  }
}
