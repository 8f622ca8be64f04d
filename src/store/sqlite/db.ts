/**
 * One node:sqlite connection per process. busy_timeout is set (via `timeout`) BEFORE switching to
 * WAL, or a second process opening the file fails with "database is locked". synchronous=FULL: an
 * acknowledged write survives a power loss, not only a process crash (the ledger is the truth).
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { migrateSchema } from "./schema.ts";
import { GroupCommit } from "./group_commit.ts";

const BUSY_TIMEOUT_MS = 5000;
/** Prepared statements kept per connection (list queries vary their text with their filters). */
const STATEMENT_CACHE = 256;

export type Row = Record<string, unknown>;

export class SqliteDb {
  readonly db: DatabaseSync;
  /** SQL text → prepared statement, least recently used first (preparing costs more than running). */
  readonly #statements = new Map<string, StatementSync>();
  readonly #group: GroupCommit;

  constructor(readonly path: string) {
    this.db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
    try {
      this.db.exec("PRAGMA journal_mode=WAL");
      this.db.exec("PRAGMA synchronous=FULL");
      this.db.exec("PRAGMA foreign_keys=ON");
      this.write(() => migrateSchema(this.db, path));
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.#group = new GroupCommit(this.db, `${path}-wal`);
  }

  /**
   * `fn` in a write transaction shared with the other writes requested in this event-loop turn
   * (group commit); resolves once that transaction committed.
   */
  writeGrouped<T>(fn: () => T): Promise<T> {
    return this.#group.write(fn);
  }

  /** Commits queued grouped writes and waits until all of them are durable and answered. */
  drain(): Promise<void> {
    return this.#group.drain();
  }

  /** A write transaction taking the write lock up front (BEGIN IMMEDIATE), so it never deadlocks. */
  write<T>(fn: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      this.db.exec("COMMIT");
      return result;
    } catch (err) {
      if (this.db.isTransaction) this.db.exec("ROLLBACK");
      throw err;
    }
  }

  /** The prepared statement for `sql`, prepared once per connection. */
  prepare(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement) {
      this.#statements.delete(sql); // re-inserted below: most recently used last
    } else {
      statement = this.db.prepare(sql);
      if (this.#statements.size >= STATEMENT_CACHE) {
        this.#statements.delete(this.#statements.keys().next().value!);
      }
    }
    this.#statements.set(sql, statement);
    return statement;
  }

  get(sql: string, ...params: (string | number | null)[]): Row | undefined {
    return this.prepare(sql).get(...params) as Row | undefined;
  }

  all(sql: string, ...params: (string | number | null)[]): Row[] {
    return this.prepare(sql).all(...params) as Row[];
  }

  run(sql: string, ...params: (string | number | null)[]): { changes: number; lastInsertRowid: number } {
    const r = this.prepare(sql).run(...params);
    return { changes: Number(r.changes), lastInsertRowid: Number(r.lastInsertRowid) };
  }

  close(): void {
    if (this.db.isOpen) this.#group.close();
    this.#statements.clear();
    if (this.db.isOpen) this.db.close();
  }
}

/** Runs synchronous store code as a promise, so validation errors reject instead of throwing. */
export const task = <T>(fn: () => T): Promise<T> => new Promise<T>((resolve) => resolve(fn()));
