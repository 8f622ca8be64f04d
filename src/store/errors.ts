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
