/**
 * Group commit for SQLite: writes requested while the event loop is busy (run saves, ledger appends
 * from different requests and ticks) are applied in ONE transaction at the next turn, so a burst of
 * N writes costs one COMMIT and one WAL fsync instead of N. Each write runs in its own savepoint:
 * one that throws is rolled back alone and rejects alone.
 *
 * The fsync is taken off the event loop: the batch commits with `synchronous=NORMAL` (no fsync in
 * COMMIT), then the WAL file is fdatasync-ed on a worker thread, and only then are the batch's
 * callers answered. The WAL is append-only between checkpoints and a checkpoint (which SQLite
 * fsyncs itself) copies only committed frames, so one fdatasync begun after a COMMIT makes that
 * commit — and every earlier one — durable: the same guarantee as `synchronous=FULL`, without
 * blocking other requests for the duration of the disk flush. Commits that land while a fdatasync
 * is in flight share the next one.
 */
import { setImmediate } from "node:timers";
import type { DatabaseSync } from "node:sqlite";

interface Pending {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class GroupCommit {
  #queue: Pending[] = [];
  #scheduled = false;
  #wal: Deno.FsFile | null = null;
  /** The fdatasync in flight, and the one queued behind it for commits made meanwhile. */
  #syncing: Promise<void> | null = null;
  #nextSync: Promise<void> | null = null;
  readonly #answering = new Set<Promise<void>>();

  constructor(private readonly db: DatabaseSync, private readonly walPath: string) {}

  /** Runs `fn` inside the next batch transaction; resolves with its result once the batch is durable. */
  write<T>(fn: () => T): Promise<T> {
    const done = Promise.withResolvers<T>();
    this.#queue.push({ fn, resolve: done.resolve as (v: unknown) => void, reject: done.reject });
    if (!this.#scheduled) {
      this.#scheduled = true;
      // While a fdatasync is in flight, a commit made now would wait for the next one anyway: commit
      // when it ends instead, so every write requested meanwhile shares ONE transaction (one COMMIT per
      // fsync, not one per event-loop turn) at no added latency. Otherwise at the next turn
      // (setImmediate, not setTimeout(0): the latter waits ~1 ms; this runs right after pending I/O).
      const flush = () => setImmediate(() => this.#flush(false));
      if (this.#syncing) this.#syncing.then(flush, flush);
      else flush();
    }
    return done.promise;
  }

  /** Commits what is queued now, with the fsync inside COMMIT (`synchronous=FULL`). */
  flushNow(): void {
    this.#flush(true);
  }

  /** Commits what is queued and waits until every batch committed so far has been answered. */
  async drain(): Promise<void> {
    this.flushNow();
    while (this.#answering.size > 0) await Promise.allSettled([...this.#answering]);
  }

  /** Closes the WAL handle (after drain(): no fdatasync may be in flight). */
  close(): void {
    this.flushNow();
    this.#wal?.close();
    this.#wal = null;
  }

  #flush(syncNow: boolean): void {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    if (!this.db.isOpen) {
      for (const pending of batch) pending.reject(new Error("Cannot write: the SQLite store is closed"));
      return;
    }
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      if (!syncNow) this.db.exec("PRAGMA synchronous=NORMAL");
      try {
        this.db.exec("BEGIN IMMEDIATE");
        for (const pending of batch) outcomes.push(this.#apply(pending));
        this.db.exec("COMMIT");
      } finally {
        if (!syncNow) this.db.exec("PRAGMA synchronous=FULL");
      }
    } catch (err) {
      if (this.db.isTransaction) this.db.exec("ROLLBACK");
      for (const pending of batch) pending.reject(err);
      return;
    }
    const answer = () =>
      batch.forEach((pending, i) => {
        const { ok, value } = outcomes[i];
        if (ok) pending.resolve(value);
        else pending.reject(value);
      });
    if (syncNow) return answer();
    const answering: Promise<void> = this.#durable().then(answer, (err) => {
      for (const pending of batch) pending.reject(err);
    }).finally(() => this.#answering.delete(answering));
    this.#answering.add(answering);
  }

  #apply(pending: Pending): { ok: boolean; value: unknown } {
    this.db.exec("SAVEPOINT group_write");
    try {
      const value = pending.fn();
      this.db.exec("RELEASE group_write");
      return { ok: true, value };
    } catch (err) {
      this.db.exec("ROLLBACK TO group_write");
      this.db.exec("RELEASE group_write");
      return { ok: false, value: err };
    }
  }

  /** Resolves once a WAL fdatasync that began after this call has completed. */
  #durable(): Promise<void> {
    if (!this.#syncing) {
      const syncing: Promise<void> = this.#syncWal().finally(() => {
        if (this.#syncing === syncing) this.#syncing = null;
      });
      this.#syncing = syncing;
      return syncing;
    }
    // The one in flight may have begun before our COMMIT: take the next one (shared).
    const again = () => {
      this.#nextSync = null;
      return this.#durable();
    };
    this.#nextSync ??= this.#syncing.then(again, again);
    return this.#nextSync;
  }

  async #syncWal(): Promise<void> {
    // The WAL keeps its inode while this connection is open (SQLite removes it only on the last close).
    this.#wal ??= await Deno.open(this.walPath, { read: true });
    await this.#wal.syncData();
  }
}
