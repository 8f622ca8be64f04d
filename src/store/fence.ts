/**
 * Lease fencing: while a runner holds a run's lease, its writes for that run carry the lease's
 * (owner, token), and a backend with leases (PostgreSQL) makes each run save and ledger append
 * conditional on that lease row still being the same, in the same statement. A runner whose lease
 * expired mid-tick and was claimed by another (new token) therefore cannot write that run any more.
 * The fence travels with the async context of the claim, so the runtime's store calls need no
 * extra argument; writes for other runs (children, parents) are not fenced by it.
 */
import { AsyncLocalStorage } from "node:async_hooks";

export interface LeaseFence {
  runId: string;
  owner: string;
  token: number;
}

const current = new AsyncLocalStorage<LeaseFence>();

/** Runs `fn` with `fence` in force for its writes to `fence.runId` (no fence: runs `fn` as is). */
export function withFence<T>(fence: LeaseFence | null, fn: () => Promise<T>): Promise<T> {
  return fence ? current.run(fence, fn) : fn();
}

/** The fence in force for a write to `runId`, or null. */
export function fenceFor(runId: string): LeaseFence | null {
  const fence = current.getStore();
  return fence?.runId === runId ? fence : null;
}
