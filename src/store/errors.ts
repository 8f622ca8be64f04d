/** Errors raised by the stores besides StoreCorruptError (types.ts). */

/** Bad input rejected before anything is written (HTTP maps it to 400). */
export class StoreValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreValidationError";
  }
}

/** The store cannot be reached right now (e.g. PostgreSQL restarting); retryable, HTTP maps it to 503. */
export class StoreUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreUnavailableError";
  }
}

/**
 * A write for a run was refused because this runner no longer holds the run's lease (it expired and
 * another runner claimed it): the stale writer must stop; the new holder continues from the ledger.
 */
export class LeaseLostError extends Error {
  constructor(runId: string) {
    super(`Cannot write run ${runId}: this runner's lease on it was lost to another runner`);
    this.name = "LeaseLostError";
  }
}
