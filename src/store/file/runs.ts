/**
 * File run store: `run_<id>.json`, pretty JSON (indent 2), replaced atomically (tmp + fsync + rename).
 *
 * Queries read an in-memory index of run summaries (all runs, the non-terminal ones, children by
 * parent), so the runner's hot queries cost the number of live runs, not the history. The index is
 * kept current by this process's own saves and, while the data dir is watched (see watch.ts), by
 * re-checking only the run files another process touched; a full re-validation still runs every
 * FULL_RESCAN_MS (a lost watch event, a file edited in place). Unwatched, a query re-scans whenever
 * the directory changed. A re-checked file is re-read only when its (inode, size, mtime) changed;
 * a full scan also re-reads files whose mtime was too recent to prove a later write would change it
 * (the "racy timestamp" rule).
 */
import { join } from "node:path";
import { isTerminal, type RunState, type RunStatus } from "../../runtime/types.ts";
import type { RunPage, RunQuery, RunStore, StoreEntryError, WakeBus } from "../types.ts";
import { StoreCorruptError } from "../types.ts";
import { runTopic } from "../wake.ts";
import {
  assertId,
  assertRun,
  compareNewestFirst,
  decodeRunCursor,
  encodeRunCursor,
  isWaitingUntil,
  matchesQuery,
  oldestReady,
  queryLimit,
  type ReadyRun,
  readySince,
  type RunSummary,
  summarize,
} from "../validate.ts";
import { errorText } from "../../util/log.ts";
import { readIfExists, removeIfExists } from "./fsutil.ts";
import { AtomicWriteBatch } from "./write_batch.ts";

/** Timestamps closer than this to "now" may not change on the next write (coarse fs clocks). */
const RACY_MS = 50;
const STAT_BATCH = 64;
/** Longest time a scan is reused for an unchanged directory (bounds how late an in-place edit is seen). */
const FULL_RESCAN_MS = 5_000;
const decoder = new TextDecoder();
/** Sorts after every ISO timestamp: a run ready "by then" is runnable now or once its wait is due. */
const END_OF_TIME = "\uffff";

export const RUN_FILE = /^run_(.+)\.json$/;
const runFileName = (runId: string): string => `run_${runId}.json`;

interface CacheEntry {
  ino: number | null;
  size: number;
  mtime: number;
  /** False when the mtime was too recent when read: a full scan re-reads the file. */
  trusted: boolean;
  summary: RunSummary | null;
  error: string | null;
}

/** What the data-dir watcher tells the run store (see watch.ts). */
export interface RunFileWatch {
  /** Watching began (or events were lost): everything before it is unknown, re-scan fully. */
  reset(): void;
  /** Watching ended: fall back to directory-change checks. */
  stopped(): void;
  /** A run file (by name) was created, replaced or removed. */
  changed(name: string): void;
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
  /** Every run file seen, by file name. */
  #entries = new Map<string, CacheEntry>();
  /** Summaries of non-terminal runs: what the runner's queries look at. */
  #active = new Map<string, RunSummary>();
  /**
   * Summaries of the runs the runner may tick now or once their `until` is due (gateway-owned, not
   * paused, running or waiting `until`): what its scheduling query looks at.
   */
  #schedulable = new Map<string, RunSummary>();
  #children = new Map<string, Set<string>>();
  #errors = new Map<string, string>();
  /** Run files another process touched since the last refresh (while watched). */
  #dirty = new Set<string>();
  /** Group commit: concurrent saves share one directory fsync. */
  readonly #writes = new AtomicWriteBatch();
  #watching = false;
  /** When the last full scan started, and the directory stamp it saw. */
  #fullAt = -Infinity;
  #fullStamp = "";

  constructor(private readonly dir: string, private readonly wake: WakeBus) {}

  /** The hooks the data-dir watcher calls. */
  readonly watch: RunFileWatch = {
    reset: () => {
      this.#watching = true;
      this.#fullAt = -Infinity;
    },
    stopped: () => {
      this.#watching = false;
      this.#fullAt = -Infinity;
    },
    changed: (name) => {
      if (RUN_FILE.test(name)) this.#dirty.add(name);
    },
  };

  #path(runId: string): string {
    return join(this.dir, runFileName(runId));
  }

  async save(run: RunState): Promise<void> {
    assertRun(run);
    const path = this.#path(run.run_id);
    await this.#writes.write(path, JSON.stringify(run, null, 2));
    this.#remember(runFileName(run.run_id), path, summarize(run));
    this.wake.publish(runTopic(run.run_id));
  }

  /** Indexes a run this process just wrote, so neither its watch event nor a query re-reads it. */
  #remember(name: string, path: string, summary: RunSummary): void {
    let stat: Deno.FileInfo;
    try {
      stat = Deno.statSync(path);
    } catch {
      this.#dirty.add(name); // replaced or removed meanwhile: check it on the next query
      return;
    }
    const mtime = stat.mtime?.getTime() ?? NaN;
    this.#set(name, { ino: stat.ino, size: stat.size, mtime, trusted: false, summary, error: null });
  }

  async load(runId: string): Promise<RunState | null> {
    assertId("run_id", runId);
    const path = this.#path(runId);
    const bytes = await readIfExists(path);
    return bytes === null ? null : parseRunFile(path, bytes);
  }

  /**
   * From the index when the run file is the one it was read or saved as (same inode, size and mtime:
   * one stat, no read), as the runner's scheduling query does; else the file is read into the index.
   */
  async status(runId: string): Promise<RunStatus | null> {
    assertId("run_id", runId);
    await this.#check(runFileName(runId), false);
    const summary = this.#entries.get(runFileName(runId))?.summary;
    if (summary) return summary.status as RunStatus;
    return (await this.load(runId))?.status ?? null; // gone, or unreadable: as load says it
  }

  async list(query: RunQuery = {}): Promise<RunPage> {
    const limit = queryLimit(query);
    const after = query.cursor ? decodeRunCursor(query.cursor) : null;
    await this.#refresh();
    const errors = this.#errorList();
    const matching = [...this.#candidates(query)].filter((s) => matchesQuery(s, query, after));
    matching.sort(compareNewestFirst);
    const page = matching.slice(0, limit);
    const items = await this.#loadAll(page, errors);
    const next_cursor = matching.length > limit ? encodeRunCursor(page[page.length - 1]) : null;
    return errors.length > 0 ? { items, next_cursor, errors } : { items, next_cursor };
  }

  /** Only the live runs when the query asks for live statuses only (the runner's queries). */
  #candidates(query: RunQuery): Iterable<RunSummary> {
    const statuses = query.status === undefined ? null : [query.status].flat();
    if (statuses && statuses.every((s) => !isTerminal(s))) return this.#active.values();
    if (query.parentRunId !== undefined) return this.#childSummaries(query.parentRunId);
    return this.#summaries();
  }

  *#summaries(): Iterable<RunSummary> {
    for (const entry of this.#entries.values()) if (entry.summary) yield entry.summary;
  }

  #childSummaries(parentRunId: string): RunSummary[] {
    const names = this.#children.get(parentRunId) ?? [];
    return [...names].map((name) => this.#entries.get(name)?.summary).filter((s) =>
      s !== undefined && s !== null
    );
  }

  #errorList(): StoreEntryError[] {
    return [...this.#errors].map(([name, error]) => ({ location: join(this.dir, name), error }));
  }

  async listRunnable(nowIso: string, limit: number, exclude: ReadonlySet<string>): Promise<string[]> {
    await this.#refresh();
    const ready: ReadyRun[] = [];
    for (const s of this.#schedulable.values()) {
      const ready_at = exclude.has(s.run_id) ? null : readySince(s, nowIso);
      if (ready_at !== null) ready.push({ run_id: s.run_id, ready_at });
    }
    return oldestReady(ready, limit);
  }

  async nextWaitUntil(): Promise<string | null> {
    await this.#refresh();
    let next: string | null = null;
    for (const s of this.#active.values()) {
      if (isWaitingUntil(s) && (next === null || s.wait_until! < next)) next = s.wait_until;
    }
    return next;
  }

  async listChildren(parentRunId: string): Promise<RunState[]> {
    assertId("parent_run_id", parentRunId);
    await this.#refresh();
    const children = this.#childSummaries(parentRunId)
      .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.run_id.localeCompare(b.run_id));
    return await this.#loadAll(children, []);
  }

  async delete(runId: string): Promise<boolean> {
    assertId("run_id", runId);
    const removed = await removeIfExists(this.#path(runId));
    this.#forget(runFileName(runId));
    if (removed) this.wake.publish(runTopic(runId));
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

  #set(name: string, entry: CacheEntry): void {
    this.#forget(name);
    this.#entries.set(name, entry);
    const s = entry.summary;
    if (!s) {
      if (entry.error) this.#errors.set(name, entry.error);
      return;
    }
    if (!isTerminal(s.status as RunState["status"])) this.#active.set(name, s);
    if (readySince(s, END_OF_TIME) !== null) this.#schedulable.set(name, s);
    if (s.parent_run_id) {
      let siblings = this.#children.get(s.parent_run_id);
      if (!siblings) this.#children.set(s.parent_run_id, siblings = new Set());
      siblings.add(name);
    }
  }

  #forget(name: string): void {
    const parent = this.#entries.get(name)?.summary?.parent_run_id;
    const siblings = parent ? this.#children.get(parent) : undefined;
    if (siblings?.delete(name) && siblings.size === 0) this.#children.delete(parent!);
    this.#entries.delete(name);
    this.#active.delete(name);
    this.#schedulable.delete(name);
    this.#errors.delete(name);
  }

  /**
   * Brings the index up to date. Watched: re-checks the run files named by watch events, with a full
   * scan every FULL_RESCAN_MS. Unwatched: every writer (ours, another process, upstream) replaces
   * run files by rename, which changes the directory's mtime; while it is unchanged the index is
   * reused, else the directory is scanned again.
   */
  async #refresh(): Promise<void> {
    const started = Date.now();
    if (this.#watching && started - this.#fullAt < FULL_RESCAN_MS) {
      const names = [...this.#dirty];
      this.#dirty.clear();
      for (let i = 0; i < names.length; i += STAT_BATCH) {
        await Promise.all(names.slice(i, i + STAT_BATCH).map((name) => this.#check(name, false)));
      }
      return;
    }
    const dir = Deno.statSync(this.dir);
    const dirMtime = dir.mtime?.getTime() ?? NaN;
    const stamp = `${dir.ino}:${dirMtime}:${dir.ctime?.getTime()}`;
    if (
      !this.#watching && stamp === this.#fullStamp && started - this.#fullAt < FULL_RESCAN_MS &&
      dirMtime < this.#fullAt - RACY_MS
    ) {
      return;
    }
    this.#dirty.clear();
    await this.#scanFiles();
    this.#fullAt = started;
    this.#fullStamp = stamp;
  }

  async #scanFiles(): Promise<void> {
    const names: string[] = [];
    for await (const entry of Deno.readDir(this.dir)) {
      if (entry.isFile && RUN_FILE.test(entry.name)) names.push(entry.name);
    }
    const seen = new Set(names);
    for (const name of [...this.#entries.keys()]) if (!seen.has(name)) this.#forget(name);
    for (let i = 0; i < names.length; i += STAT_BATCH) {
      await Promise.all(names.slice(i, i + STAT_BATCH).map((name) => this.#check(name, true)));
    }
  }

  /** Re-reads one run file into the index when it changed; `strict` also re-reads racy entries. */
  async #check(name: string, strict: boolean): Promise<void> {
    const path = join(this.dir, name);
    const statStarted = Date.now();
    let stat: Deno.FileInfo;
    try {
      stat = Deno.statSync(path); // sync: for thousands of files, async op overhead doubles the scan time
    } catch {
      this.#forget(name); // removed
      return;
    }
    const mtime = stat.mtime?.getTime() ?? NaN;
    const cached = this.#entries.get(name);
    if (
      cached && cached.ino === stat.ino && cached.size === stat.size && cached.mtime === mtime &&
      (cached.trusted || !strict)
    ) {
      return;
    }
    const bytes = await readIfExists(path);
    if (bytes === null) {
      this.#forget(name);
      return;
    }
    const trusted = mtime < statStarted - RACY_MS;
    try {
      const run = parseRunFile(path, bytes);
      if (runFileName(run.run_id) !== name) {
        throw new StoreCorruptError(
          path,
          `run_id ${JSON.stringify(run.run_id)} does not match the file name`,
        );
      }
      this.#set(name, {
        ino: stat.ino,
        size: stat.size,
        mtime,
        trusted,
        summary: summarize(run),
        error: null,
      });
    } catch (err) {
      this.#set(name, {
        ino: stat.ino,
        size: stat.size,
        mtime,
        trusted,
        summary: null,
        error: errorText(err),
      });
    }
  }
}
