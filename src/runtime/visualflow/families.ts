/** The shapes every node family file exports. */
import type { StepPlan } from "../spec.ts";
import type { ExecContext } from "./exec_context.ts";

export type ExecFn = (ctx: ExecContext) => StepPlan;

/** Raised for bad node data; the run COMPLETES with `{error, success:false, node}` (upstream quirk). */
export class NodeDataError extends Error {}
