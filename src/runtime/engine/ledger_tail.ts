/**
 * Reads a run's ledger newest record first. Crash redo checks use it: a batch appended just before a
 * crash (and before the run was saved) sits at or near the end of the ledger.
 */
import type { StepRecord } from "../types.ts";
import type { LedgerStore } from "../../store/types.ts";

const PAGE = 200;

/**
 * Visits the records newest first until `visit` gives a verdict (anything but undefined) and
 * resolves with it; `fallback` (false unless given) when the ledger runs out first.
 */
export async function scanFromNewest<T = boolean>(
  ledger: LedgerStore,
  runId: string,
  visit: (record: StepRecord) => T | undefined,
  fallback: T = false as T,
): Promise<T> {
  for (let end = await ledger.count(runId); end > 0;) {
    const start = Math.max(0, end - PAGE);
    const page = await ledger.read(runId, start, end - start);
    for (let i = page.items.length - 1; i >= 0; i--) {
      const verdict = visit(page.items[i]);
      if (verdict !== undefined) return verdict;
    }
    end = start;
  }
  return fallback;
}
