/**
 * File run store: `run_<id>.json`, pretty JSON (indent 2), replaced atomically (tmp + fsync + rename).
 * Queries scan the directory; parsed summaries are cached per file and reused only while the file's
 * (inode, size, mtime) is unchanged and the mtime was old enough when it was read that a later write
 * from another process must change it (the "racy timestamp" rule).
 */
import { join } from "node:path";
import type { RunState } from "../../runtime/types.ts";
import type { RunPage, RunQuery, RunStore, StoreEntryError, WakeBus } from "../types.ts";
import { StoreCorruptError } from "../types.ts";
import {
  assertId,
  assertRun,
  compareNewestFirst,
  decodeRunCursor,
  encodeRunCursor,
  isWaitingUntil,
  matchesQuery,
  queryLimit,
  type RunSummary,
  summarize,
} from "../validate.ts";
import { errorText } from "../../util/log.ts";
import { readIfExists, removeIfExists } from "./fsutil.ts";
import { writeFileAtomic } from "../../util/atomic.ts";

/** Timestamps closer than this to "now" may not change on the next write (coarse fs clocks). */
const RACY_MS = 50;
const STAT_BATCH = 64;
/** Longest time a scan is reused for an unchanged directory (bounds how late an in-place edit is seen). */
const FULL_RESCAN_MS = 5_000;
const decoder = new TextDecoder();

export const RUN_FILE = /^run_(.+)\.json$/;
const runFileName = (runId: string): string => `run_${runId}.json`;

interface CacheEntry {
  ino: number | null;
  size: number;
  mtime: number;
  summary: RunSummary | null;
  error: string | null;
}

/** Parses a run file's bytes; throws StoreCorruptError naming the file. */
export function parseRunFile(path: string, bytes: Uint8Array): RunState {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (err) {
    throw new StoreCorruptError(path, `invalid JSON (${err instanceof Error ? err.message : err})`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new StoreCorruptError(path, "not a JSON object");
  }
  const run = value as RunState;
  if (typeof run.run_id !== "string" || typeof run.status !== "string") {
    throw new StoreCorruptError(path, "missing run_id or status");
  }
  return run;
}

export class FileRunStore implements RunStore {
  #cache = new Map<string, CacheEntry>();
  /** The last scan, reused while the directory is unchanged (see #scan). */
  #lastScan: { stamp: string; at: number; summaries: RunSummary[]; errors: StoreEntryError[] } | null = null;

  constructor(private readonly dir: string, private readonly wake: WakeBus) {}

  #path(runId: string): string {
    return join(this.dir, runFileName(runId));
  }

  async save(run: RunState): Promise<void> {
    assertRun(run);
    await writeFileAtomic(this.#path(run.run_id), JSON.stringify(run, null, 2));
    this.wake.publish("runs");
  }

  async load(runId: string): Promise<RunState | null> {
    assertId("run_id", runId);
    const path = this.#path(runId);
    const bytes = await readIfExists(path);
    return bytes === null ? null : parseRunFile(path, bytes);
  }

  async list(query: RunQuery = {}): Promise<RunPage> {
    const limit = queryLimit(query);
    const after = query.cursor ? decodeRunCursor(query.cursor) : null;
    const { summaries, errors } = await this.#scan();
    const matching = summaries.filter((s) => matchesQuery(s, query, after)).sort(compareNewestFirst);
    const page = matching.slice(0, limit);
    const items = await this.#loadAll(page, errors);
    const next_cursor = matching.length > limit ? encodeRunCursor(page[page.length - 1]) : null;
    return errors.length > 0 ? { items, next_cursor, errors } : { items, next_cursor };
  }

  async listDueWaitUntil(nowIso: string, limit: number): Promise<RunState[]> {
    const { summaries } = await this.#scan();
    const due = summaries.filter((s) => isWaitingUntil(s) && s.wait_until! <= nowIso)
      .sort((a, b) => a.wait_until!.localeCompare(b.wait_until!) || a.run_id.localeCompare(b.run_id))
      .slice(0, limit);
    return await this.#loadAll(due, []);
  }

  async nextWaitUntil(): Promise<string | null> {
    const { summaries } = await this.#scan();
    let next: string | null = null;
    for (const s of summaries) {
      if (isWaitingUntil(s) && (next === null || s.wait_until! < next)) next = s.wait_until;
    }
    return next;
  }

  async listChildren(parentRunId: string): Promise<RunState[]> {
    assertId("parent_run_id", parentRunId);
    const { summaries } = await this.#scan();
    const children = summaries.filter((s) => s.parent_run_id === parentRunId)
      .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.run_id.localeCompare(b.run_id));
    return await this.#loadAll(children, []);
  }

  async delete(runId: string): Promise<boolean> {
    assertId("run_id", runId);
    const removed = await removeIfExists(this.#path(runId));
    if (removed) this.wake.publish("runs");
    return removed;
  }

  /** Loads full states for summaries (a file may have changed or vanished since the scan). */
  async #loadAll(summaries: RunSummary[], errors: StoreEntryError[]): Promise<RunState[]> {
    const loaded = await Promise.all(summaries.map(async (s) => {
      try {
        return await this.load(s.run_id);
      } catch (err) {
        errors.push({ location: this.#path(s.run_id), error: errorText(err) });
        return null;
      }
    }));
    return loaded.filter((run): run is RunState => run !== null);
  }

  /**
   * Summaries of every readable run file, plus the unreadable ones named in `errors`.
   *
   * Every writer (ours, another process, upstream) replaces run files by rename, which changes the
   * directory's mtime; while it is unchanged the last scan is reused instead of stat-ing every file
   * (the runner queries several times a second). A full re-validation still runs every
   * FULL_RESCAN_MS so a file edited in place is noticed too.
   */
  async #scan(): Promise<{ summaries: RunSummary[]; errors: StoreEntryError[] }> {
    const started = Date.now();
    const dir = Deno.statSync(this.dir);
    const dirMtime = dir.mtime?.getTime() ?? NaN;
    const stamp = `${dir.ino}:${dirMtime}:${dir.ctime?.getTime()}`;
    const last = this.#lastScan;
    if (
      last && last.stamp === stamp && started - last.at < FULL_RESCAN_MS && dirMtime < last.at - RACY_MS
    ) {
      return { summaries: last.summaries, errors: [...last.errors] };
    }
    const result = await this.#scanFiles();
    this.#lastScan = { stamp, at: started, ...result };
    return { summaries: result.summaries, errors: [...result.errors] };
  }

  async #scanFiles(): Promise<{ summaries: RunSummary[]; errors: StoreEntryError[] }> {
    const names: string[] = [];
    for await (const entry of Deno.readDir(this.dir)) {
      if (entry.isFile && RUN_FILE.test(entry.name)) names.push(entry.name);
    }
    const seen = new Set(names);
    for (const name of this.#cache.keys()) if (!seen.has(name)) this.#cache.delete(name);
    const summaries: RunSummary[] = [];
    const errors: StoreEntryError[] = [];
    for (let i = 0; i < names.length; i += STAT_BATCH) {
      const entries = await Promise.all(names.slice(i, i + STAT_BATCH).map((name) => this.#entry(name)));
      entries.forEach((entry, j) => {
        if (entry?.summary) summaries.push(entry.summary);
        else if (entry?.error) errors.push({ location: join(this.dir, names[i + j]), error: entry.error });
      });
    }
    return { summaries, errors };
  }

  async #entry(name: string): Promise<CacheEntry | null> {
    const path = join(this.dir, name);
    const statStarted = Date.now();
    let stat: Deno.FileInfo;
    try {
      stat = Deno.statSync(path); // sync: for thousands of files, async op overhead doubles the scan time
    } catch {
      return null; // removed since readDir
    }
    const mtime = stat.mtime?.getTime() ?? NaN;
    const cached = this.#cache.get(name);
    if (cached && cached.ino === stat.ino && cached.size === stat.size && cached.mtime === mtime) {
      return cached;
    }
    const bytes = await readIfExists(path);
    if (bytes === null) return null;
    let entry: CacheEntry;
    try {
      const run = parseRunFile(path, bytes);
      if (runFileName(run.run_id) !== name) {
        throw new StoreCorruptError(
          path,
          `run_id ${JSON.stringify(run.run_id)} does not match the file name`,
        );
      }
      entry = { ino: stat.ino, size: stat.size, mtime, summary: summarize(run), error: null };
    } catch (err) {
      entry = { ino: stat.ino, size: stat.size, mtime, summary: null, error: errorText(err) };
    }
    if (mtime < statStarted - RACY_MS) this.#cache.set(name, entry);
    else this.#cache.delete(name);
    return entry;
  }
}
