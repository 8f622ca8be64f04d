/**
 * The run state a runner has just saved under its lease, kept for the load that follows at once (the
 * engine re-reads the run after every checkpoint, to see a pause or cancel that landed meanwhile):
 * that load is answered from here and costs no round trip. One load per save, only in the same lease
 * context (keyed by its fence; the entry goes with it), and a ledger append of the run in between
 * drops it. A write by another context that commits between the save and that load is then seen one
 * step later, as if it had committed just after the load — an interleaving that was already possible.
 */
import type { LeaseFence } from "../fence.ts";

export class JustSaved {
  readonly #byFence = new WeakMap<LeaseFence, string>();

  /** After a fenced save of `fence.runId` wrote `json`. */
  remember(fence: LeaseFence | null, json: string): void {
    if (fence) this.#byFence.set(fence, json);
  }

  /** The JSON this context saved last, if it has not loaded, appended or deleted since (then forgotten). */
  take(fence: LeaseFence | null): string | undefined {
    if (!fence) return undefined;
    const json = this.#byFence.get(fence);
    this.#byFence.delete(fence);
    return json;
  }

  forget(fence: LeaseFence | null): void {
    if (fence) this.#byFence.delete(fence);
  }
}
