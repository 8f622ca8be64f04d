/** Errors the runtime facade throws for requests that do not fit the run's state (HTTP maps them to 4xx). */

export type RuntimeErrorCode =
  | "run_not_found"
  | "unknown_workflow"
  | "invalid_workflow"
  | "run_paused"
  | "run_not_waiting"
  | "wait_key_mismatch"
  | "invalid_request";

export class RuntimeError extends Error {
  constructor(readonly code: RuntimeErrorCode, message: string) {
    super(message);
    this.name = "RuntimeError";
  }
}

/** Raised by a compiled node that cannot run here; the run fails with exactly this message. */
export class UnsupportedNodeError extends Error {
  constructor(readonly nodeType: string, readonly nodeId: string) {
    super(`Unsupported node type '${nodeType}' (node ${nodeId})`);
    this.name = "UnsupportedNodeError";
  }
}
