/** A non-2xx answer from the gateway; `detail` is its error text. */
export class GatewayHttpError extends Error {
  constructor(readonly status: number, readonly detail: unknown) {
    super(`HTTP ${status}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
    this.name = "GatewayHttpError";
  }
}
