/** Errors raised by the stores besides StoreCorruptError (types.ts). */

/** Bad input rejected before anything is written (HTTP maps it to 400). */
export class StoreValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreValidationError";
  }
}
