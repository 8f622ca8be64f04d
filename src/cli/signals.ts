/** Resolves with the name of the first SIGINT/SIGTERM received, then removes its listeners. */
export function untilSignal(): Promise<Deno.Signal> {
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  return new Promise((resolve) => {
    const handlers = signals.map((sig) => {
      const handler = () => {
        signals.forEach((s, i) => Deno.removeSignalListener(s, handlers[i]));
        resolve(sig);
      };
      Deno.addSignalListener(sig, handler);
      return handler;
    });
  });
}
