/**
 * Response bodies that report their own end. A middleware that only needs to know when a body has
 * ended (to release a concurrency slot, to count open streams) would otherwise wrap it in one more
 * stream that re-reads every chunk; with 1,000 SSE streams those layers were a large share of the
 * fan-out cost per frame. A producer that knows when it ends (the ledger SSE stream) registers its
 * body here, and such middlewares subscribe instead of wrapping.
 */
const ends = new WeakMap<ReadableStream<Uint8Array>, (() => void)[]>();

/** Marks `body` as reporting its own end; returns what the producer calls (once) when it has ended. */
export function reportsEnd(body: ReadableStream<Uint8Array>): () => void {
  const listeners: (() => void)[] = [];
  ends.set(body, listeners);
  return () => {
    ends.delete(body);
    for (const listener of listeners.splice(0)) listener();
  };
}

/** Calls `listener` when `body` ends and returns true, or returns false if `body` does not report its end. */
export function onReportedEnd(body: ReadableStream<Uint8Array>, listener: () => void): boolean {
  const listeners = ends.get(body);
  listeners?.push(listener);
  return listeners !== undefined;
}
