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
import { StoreValidationError } from "../errors.ts";
import { assertId, assertOffset } from "../validate.ts";
import { logger } from "../../util/log.ts";
import { isNotFound, syncDir, writeAll } from "./fsutil.ts";
import { withLockedFile } from "./lock.ts";
import { encodeLines, JsonlIndex, readRecords, repairTail } from "./jsonl.ts";

const MAX_CACHED_INDEXES = 256;
const log = logger("store");

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
    if (!Array.isArray(records)) throw new StoreValidationError("ledger records must be an array");
    for (const r of records) {
      if (r === null || typeof r !== "object" || Array.isArray(r)) {
        throw new StoreValidationError("every ledger record must be a JSON object");
      }
    }
    if (records.length === 0) return await this.count(runId);
    const bytes = encodeLines(records);
    const path = this.#path(runId);
    const length = await this.#mutex.run(runId, () =>
      withLockedFile(path, async (file, created) => {
        const { size, repaired } = await repairTail(file);
        if (repaired) log.warn("repaired torn ledger tail", { file: path, action: repaired });
        const index = this.#index(runId);
        const state = await index.refresh(file);
        const before = state.meta.length;
        await file.seek(size, Deno.SeekMode.Start);
        await writeAll(file, bytes);
        await file.syncData();
        if (created) await syncDir(this.dir);
        await index.extend(state, size, bytes, records as unknown as Record<string, unknown>[]);
        return before + records.length;
      }));
    this.wake.publish(ledgerTopic(runId));
    return length;
  }

  async read(runId: string, after: number, limit: number): Promise<LedgerPage> {
    assertId("run_id", runId);
    assertOffset("after", after);
    assertOffset("limit", limit);
    const items = await this.#withFile(runId, async (file, index) => {
      const state = await index.refresh(file);
      const total = state.meta.length;
      return await readRecords(file, state, Math.min(after, total), Math.min(total, after + limit));
    });
    return { items: (items ?? []) as unknown as StepRecord[], next_after: after + (items?.length ?? 0) };
  }

  async count(runId: string): Promise<number> {
    assertId("run_id", runId);
    return await this.#withFile(runId, async (file, index) => (await index.refresh(file)).meta.length) ?? 0;
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

  /** Runs `fn` with the ledger open for reading; null when the ledger does not exist. */
  async #withFile<T>(runId: string, fn: (file: Deno.FsFile, index: JsonlIndex<true>) => Promise<T>) {
    const index = this.#index(runId);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(this.#path(runId), { read: true });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await index.refresh(null);
      return null;
    }
    try {
      return await fn(file, index);
    } finally {
      file.close();
    }
  }
}
