/**
 * Builds the wrapper VisualFlow of a scheduled run (contract §5.5), using only standard nodes so the
 * ordinary VisualFlow engine runs it:
 *
 *   one-shot:   start → wait_start → run_first
 *   N times:    start → wait_start → run_first → repeat(for i in 1..N-1) ─loop→ wait_interval → run_next
 *   forever:    start → wait_start → run_first → wait_interval(recurrent) → run_next
 *
 * `wait_start` / `wait_interval` are on_schedule nodes (WAIT_UNTIL); `run_*` are subflow nodes
 * (the parent waits `subworkflow` while the child runs). With share_context=false each child gets
 * its own session id `<session_prefix>:<iteration>` (count) or `<session_prefix>:<fire time>`.
 */
import type { VisualEdge, VisualFlow, VisualNode, VisualPin } from "../bundles/types.ts";
import type { Json, JsonObject } from "../runtime/types.ts";
import { WAIT_INTERVAL_NODE, WAIT_START_NODE } from "./schedule_meta.ts";

export interface WrapperSpec {
  flowId: string;
  targetWorkflowId: string;
  /** "0s" (now) or an absolute ISO time. */
  startSchedule: string;
  /** Interval between fires (for cron schedules a placeholder the runner re-times). */
  intervalSchedule: string | null;
  /** null = forever (when there is an interval). */
  repeatCount: number | null;
  /** Set when share_context is false. */
  sessionPrefix: string | null;
}

const EXEC_IN: VisualPin = { id: "exec-in", label: "", type: "execution" };
const EXEC_OUT: VisualPin = { id: "exec-out", label: "", type: "execution" };
const pin = (id: string, type: string): VisualPin => ({ id, label: id, type });

function node(
  id: string,
  type: string,
  inputs: VisualPin[],
  outputs: VisualPin[],
  extra: Record<string, Json> = {},
): VisualNode {
  return { id, type, data: { nodeType: type, label: id, inputs, outputs, ...extra } };
}

function edge(source: string, sourceHandle: string, target: string, targetHandle: string): VisualEdge {
  return {
    id: `${source}.${sourceHandle}->${target}.${targetHandle}`,
    source,
    sourceHandle,
    target,
    targetHandle,
  };
}

function schedule(id: string, when: string, recurrent: boolean): VisualNode {
  return node(id, "on_schedule", [EXEC_IN], [EXEC_OUT, pin("timestamp", "string")], {
    eventConfig: { schedule: when, recurrent },
  });
}

function subflow(id: string, target: string, pinDefaults: JsonObject): VisualNode {
  return node(id, "subflow", [EXEC_IN, pin("vars", "object"), pin("session_id", "string")], [
    EXEC_OUT,
    pin("output", "any"),
  ], { subflowId: target, pinDefaults });
}

/** A pure concat node producing `<prefix>:<value of the wired pin>`. */
function sessionId(id: string, prefix: string): VisualNode {
  return node(id, "concat", [pin("prefix", "string"), pin("suffix", "string")], [pin("result", "string")], {
    concatConfig: { separator: ":" },
    pinDefaults: { prefix },
  });
}

export function buildWrapperFlow(spec: WrapperSpec): VisualFlow {
  const forever = spec.intervalSchedule !== null && spec.repeatCount === null;
  const repeats = spec.intervalSchedule !== null && (forever || (spec.repeatCount ?? 1) > 1);
  const prefix = spec.sessionPrefix;
  const nodes: VisualNode[] = [
    node("start", "on_flow_start", [], [EXEC_OUT, pin("vars", "object")]),
    schedule(WAIT_START_NODE, spec.startSchedule, false),
    subflow("run_first", spec.targetWorkflowId, prefix && !forever ? { session_id: `${prefix}:0` } : {}),
  ];
  const edges: VisualEdge[] = [
    edge("start", "exec-out", WAIT_START_NODE, "exec-in"),
    edge(WAIT_START_NODE, "exec-out", "run_first", "exec-in"),
    edge("start", "vars", "run_first", "vars"),
  ];
  if (prefix && forever) {
    nodes.push(sessionId("first_session", prefix));
    edges.push(edge(WAIT_START_NODE, "timestamp", "first_session", "suffix"));
    edges.push(edge("first_session", "result", "run_first", "session_id"));
  }
  if (repeats) {
    nodes.push(schedule(WAIT_INTERVAL_NODE, spec.intervalSchedule!, forever));
    nodes.push(subflow("run_next", spec.targetWorkflowId, {}));
    edges.push(edge(WAIT_INTERVAL_NODE, "exec-out", "run_next", "exec-in"));
    edges.push(edge("start", "vars", "run_next", "vars"));
    if (forever) {
      edges.push(edge("run_first", "exec-out", WAIT_INTERVAL_NODE, "exec-in"));
    } else {
      nodes.push(
        node(
          "repeat",
          "for",
          [EXEC_IN, pin("start", "number"), pin("end", "number"), pin("step", "number")],
          [
            { id: "loop", label: "loop", type: "execution" },
            { id: "done", label: "done", type: "execution" },
            pin("i", "number"),
            pin("index", "number"),
          ],
          { pinDefaults: { start: 1, end: spec.repeatCount!, step: 1 } },
        ),
      );
      edges.push(edge("run_first", "exec-out", "repeat", "exec-in"));
      edges.push(edge("repeat", "loop", WAIT_INTERVAL_NODE, "exec-in"));
    }
    if (prefix) {
      nodes.push(sessionId("next_session", prefix));
      edges.push(
        edge(forever ? WAIT_INTERVAL_NODE : "repeat", forever ? "timestamp" : "i", "next_session", "suffix"),
      );
      edges.push(edge("next_session", "result", "run_next", "session_id"));
    }
  }
  return {
    id: spec.flowId,
    name: `Scheduled ${spec.targetWorkflowId}`,
    description: "Generated by POST /runs/schedule",
    interfaces: [],
    entryNode: "start",
    nodes,
    edges,
  };
}
