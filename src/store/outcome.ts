/** Validation of a CommandOutcome before it is recorded (shared by every backend). */
import type { CommandOutcome } from "./types.ts";
import { StoreValidationError } from "./errors.ts";

export function validateOutcome(outcome: CommandOutcome): void {
  if (outcome === null || typeof outcome !== "object") {
    throw new StoreValidationError("outcome must be an object");
  }
  if (typeof outcome.command_id !== "string" || outcome.command_id === "") {
    throw new StoreValidationError("outcome.command_id must be a non-empty string");
  }
  if (!Number.isSafeInteger(outcome.seq) || outcome.seq < 1) {
    throw new StoreValidationError("outcome.seq must be a positive integer");
  }
  if (outcome.status !== "applied" && outcome.status !== "failed") {
    throw new StoreValidationError("outcome.status must be applied or failed");
  }
}

/** Validates a batch for `completeMany` (every outcome, then the list itself). */
export function validateOutcomes(outcomes: CommandOutcome[]): void {
  if (!Array.isArray(outcomes)) throw new StoreValidationError("outcomes must be an array");
  outcomes.forEach(validateOutcome);
}

/** The highest seq of a non-empty batch (where the consumer cursor moves to). */
export function maxSeq(outcomes: CommandOutcome[]): number {
  return outcomes.reduce((max, o) => Math.max(max, o.seq), 0);
}
