/** The one error type of operator tooling: an HTTP status and a one-line `detail` for the client. */
export class ToolingError extends Error {
  constructor(readonly status: number, readonly detail: string) {
    super(detail);
    this.name = "ToolingError";
  }
}
