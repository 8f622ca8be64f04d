/**
 * Programmatic workflows for runner tests (real WorkflowRuntime, real stores; only the workflow
 * graph is written in code instead of a bundle).
 */
import type { EffectHandler, WorkflowSpec } from "../../src/runtime/spec.ts";
import type { Json, JsonObject } from "../../src/runtime/types.ts";
import { isoUtc } from "../../src/util/time.ts";

const obj = (v: Json | undefined): JsonObject => (v && typeof v === "object" && !Array.isArray(v) ? v : {});

/** Waits for session event `tick` forever; each delivery appends `payload.n` to `vars.received`. */
export const EVENT_COUNTER: WorkflowSpec = {
  workflow_id: "test:event_counter",
  entry_node: "wait",
  nodes: {
    wait: () => ({
      node_id: "wait",
      effect: {
        type: "wait_event",
        payload: { name: "tick", scope: "session", resume_to_node: "count" },
        result_key: "_temp.event",
      },
      next_node: "count",
    }),
    count: (run) => {
      const received = Array.isArray(run.vars.received) ? run.vars.received : [];
      const event = obj(obj(run.vars._temp).event);
      received.push(obj(event.payload).n ?? event.n ?? null);
      run.vars.received = received;
      return { node_id: "count", next_node: "wait" };
    },
  },
};

/** Waits until `vars.until` (ISO), then completes with the time it fired. */
export const WAIT_UNTIL: WorkflowSpec = {
  workflow_id: "test:wait_until",
  entry_node: "wait",
  nodes: {
    wait: (run) => ({
      node_id: "wait",
      effect: {
        type: "wait_until",
        payload: { until: run.vars.until ?? null, resume_to_node: "done" },
        result_key: null,
      },
      next_node: "done",
    }),
    done: () => ({ node_id: "done", complete_output: { success: true, fired_at: isoUtc() } }),
  },
};

/** Counts `vars.steps` every 20 ms forever (a run that keeps advancing until paused or cancelled). */
export const TICKER: WorkflowSpec = {
  workflow_id: "test:ticker",
  entry_node: "step",
  nodes: {
    step: (run) => {
      run.vars.steps = (typeof run.vars.steps === "number" ? run.vars.steps : 0) + 1;
      return {
        node_id: "step",
        effect: {
          type: "wait_until",
          payload: { until: isoUtc(new Date(Date.now() + 20)), resume_to_node: "step" },
          result_key: null,
        },
        next_node: "step",
      };
    },
  },
};

/**
 * Counts `vars.steps` up to `vars.limit` in steps without effects (a checkpoint every 16 of them),
 * then completes: a tick that keeps saving the run for its whole length.
 */
export const SPIN: WorkflowSpec = {
  workflow_id: "test:spin",
  entry_node: "step",
  nodes: {
    step: (run) => {
      const steps = (typeof run.vars.steps === "number" ? run.vars.steps : 0) + 1;
      run.vars.steps = steps;
      if (steps >= Number(run.vars.limit ?? 1_000)) {
        return { node_id: "step", complete_output: { success: true, steps } };
      }
      return { node_id: "step", next_node: "step" };
    },
  },
};

/** Starts `vars.child_workflow` as an async child and waits for it; completes with its output. */
export const PARENT: WorkflowSpec = {
  workflow_id: "test:parent",
  entry_node: "spawn",
  nodes: {
    spawn: (run) => ({
      node_id: "spawn",
      effect: {
        type: "start_subworkflow",
        payload: {
          workflow_id: typeof run.vars.child_workflow === "string"
            ? run.vars.child_workflow
            : "test:event_counter",
          vars: obj(run.vars.child_vars),
          async: true,
          wait: true,
          resume_to_node: "done",
        },
        result_key: "_temp.child",
      },
      next_node: "done",
    }),
    done: (run) => ({
      node_id: "done",
      complete_output: { success: true, child: obj(run.vars._temp).child ?? null },
    }),
  },
};

/** Throws on its first node (tick-exception handling). */
export const BROKEN: WorkflowSpec = {
  workflow_id: "test:broken",
  entry_node: "boom",
  nodes: {
    boom: () => {
      throw new TypeError("boom");
    },
  },
};

/** One `test_sleep` effect of `vars.ms` milliseconds (a long step, like an LLM call), then completes. */
export const SLOW: WorkflowSpec = {
  workflow_id: "test:slow",
  entry_node: "sleep",
  nodes: {
    sleep: (run) => ({
      node_id: "sleep",
      effect: { type: "test_sleep", payload: { ms: run.vars.ms ?? 1000 }, result_key: "_temp.slept" },
      next_node: "done",
    }),
    done: () => ({ node_id: "done", complete_output: { success: true } }),
  },
};

/** Effect handlers the test specs use besides the built-in ones. */
export const TEST_EFFECTS: Record<string, EffectHandler> = {
  test_sleep: async ({ effect }) => {
    await new Promise((resolve) => setTimeout(resolve, Number(effect.payload.ms)));
    return { status: "completed", result: { slept: effect.payload.ms } };
  },
};

export const TEST_SPECS = new Map<string, WorkflowSpec>(
  [EVENT_COUNTER, WAIT_UNTIL, TICKER, SPIN, PARENT, BROKEN, SLOW].map((s) => [s.workflow_id, s]),
);
