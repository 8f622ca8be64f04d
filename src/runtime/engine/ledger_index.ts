/**
 * What the run's ledger says about effect idempotency keys, read once per tick:
 * - completed results (reused instead of re-executing the effect, §1.7);
 * - steps interrupted by a crash: a `started` line with no finish (re-executed under the same step id,
 *   no second `started` line), or a `waiting` line that was never answered by a resume record
 *   (the wait is re-entered without executing the effect again).
 */
import type { Json, StepRecord, WaitState } from "../types.ts";
import type { LedgerStore } from "../../store/types.ts";
import { isObject } from "./json.ts";

export type PendingStep =
  | { kind: "started"; record: StepRecord }
  | { kind: "waiting"; record: StepRecord; wait: WaitState };

const PAGE = 1000;

export class LedgerIndex {
  private completed = new Map<string, Json>();
  private pending = new Map<string, PendingStep>();

  static async load(ledger: LedgerStore, runId: string): Promise<LedgerIndex> {
    const index = new LedgerIndex();
    let after = 0;
    for (;;) {
      const page = await ledger.read(runId, after, PAGE);
      for (const r of page.items) index.observe(r);
      if (page.items.length < PAGE) break;
      after = page.next_after;
    }
    return index;
  }

  /** Folds one record (also called for records this tick appends). */
  observe(r: StepRecord): void {
    if (r.effect?.type === "resume") {
      for (const [key, p] of this.pending) if (p.kind === "waiting") this.pending.delete(key);
      return;
    }
    const key = r.idempotency_key;
    if (key === null || key.startsWith("system:")) return;
    if (r.status === "started") this.pending.set(key, { kind: "started", record: r });
    else if (r.status === "waiting" && isObject(r.result) && isObject(r.result.wait)) {
      this.pending.set(key, { kind: "waiting", record: r, wait: r.result.wait as unknown as WaitState });
    } else {
      this.pending.delete(key);
      if (r.status === "completed" && !this.completed.has(key)) this.completed.set(key, r.result);
    }
  }

  completedResult(key: string): { found: boolean; result: Json } {
    return this.completed.has(key)
      ? { found: true, result: this.completed.get(key)! }
      : { found: false, result: null };
  }

  pendingStep(key: string): PendingStep | undefined {
    return this.pending.get(key);
  }
}
