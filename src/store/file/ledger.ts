/**
 * File ledger: `ledger_<run_id>.jsonl`, one StepRecord per line. Appends take flock on the ledger
 * file itself (so two processes never interleave inside a line), repair a torn tail, write the batch
 * in one write and fsync before resolving. Reads go through a per-process byte-offset index that is
 * extended from the file size, so replaying a long ledger page by page stays O(page).
 */
import { join } from "node:path";
import type { StepRecord } from "../../runtime/types.ts";
import type { LedgerPage, LedgerStore, WakeBus } from "../types.ts";
import { ledgerTopic } from "../wake.ts";
import { KeyedMutex } from "../mutex.ts";
import { assertId, assertLedgerPage, assertLedgerRecords } from "../validate.ts";
import { isNotFound } from "./fsutil.ts";
import { withLockedFile } from "./lock.ts";
import { appendIndexed, JsonlIndex, type JsonObj, readIndexed, readRecords } from "./jsonl.ts";

const MAX_CACHED_INDEXES = 256;

export const LEDGER_FILE = /^ledger_(.+)\.jsonl$/;
export const ledgerFileName = (runId: string): string => `ledger_${runId}.jsonl`;

export class FileLedgerStore implements LedgerStore {
  #indexes = new Map<string, JsonlIndex<true>>();
  #mutex = new KeyedMutex();

  constructor(private readonly dir: string, private readonly wake: WakeBus) {}

  #path(runId: string): string {
    return join(this.dir, ledgerFileName(runId));
  }

  /** Per-run index, kept in a small LRU. */
  #index(runId: string): JsonlIndex<true> {
    let index = this.#indexes.get(runId);
    if (index) this.#indexes.delete(runId);
    else index = new JsonlIndex<true>(() => true);
    this.#indexes.set(runId, index);
    if (this.#indexes.size > MAX_CACHED_INDEXES) this.#indexes.delete(this.#indexes.keys().next().value!);
    return index;
  }

  async append(runId: string, records: StepRecord[]): Promise<number> {
    assertId("run_id", runId);
    assertLedgerRecords(records);
    if (records.length === 0) return await this.count(runId);
    const path = this.#path(runId);
    const length = await this.#mutex.run(
      runId,
      () =>
        withLockedFile(
          path,
          (file, created) =>
            appendIndexed(file, created, path, this.#index(runId), (state) => ({
              result: state.meta.length + records.length,
              records: records as unknown as JsonObj[],
            })),
        ),
    );
    this.wake.publish(ledgerTopic(runId));
    return length;
  }

  async read(runId: string, after: number, limit: number): Promise<LedgerPage> {
    assertLedgerPage(runId, after, limit);
    const items = await readIndexed(this.#path(runId), this.#index(runId), (file, state) => {
      const total = state.meta.length;
      return readRecords(file, state, Math.min(after, total), Math.min(total, after + limit));
    }, []);
    return { items: items as unknown as StepRecord[], next_after: after + items.length };
  }

  async count(runId: string): Promise<number> {
    assertId("run_id", runId);
    return await readIndexed(
      this.#path(runId),
      this.#index(runId),
      (_f, state) => Promise.resolve(state.meta.length),
      0,
    );
  }

  async delete(runId: string): Promise<boolean> {
    assertId("run_id", runId);
    const path = this.#path(runId);
    const removed = await this.#mutex.run(runId, async () => {
      let file: Deno.FsFile;
      try {
        file = await Deno.open(path, { read: true, write: true });
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
      try {
        await file.lock(true); // wait for an appender in another process to finish its line
        await Deno.remove(path);
        return true;
      } finally {
        file.close();
        this.#indexes.delete(runId);
      }
    });
    if (removed) this.wake.publish(ledgerTopic(runId));
    return removed;
  }
}
