/**
 * SQLite ledger: `ledger(run_id, seq, record_json)` with the per-run seq allocated from
 * `ledger_heads.last_seq` in the same BEGIN IMMEDIATE transaction as the inserts (1-based,
 * contiguous). Offset `after` = seq - 1, so a page is `seq > after ORDER BY seq LIMIT n`.
 */
import type { RunState, StepRecord } from "../../runtime/types.ts";
import type { LedgerPage, LedgerStore, WakeBus } from "../types.ts";
import { parseLedgerRows } from "../sql_rows.ts";
import { assertId, assertLedgerPage, assertLedgerRecords, assertRun } from "../validate.ts";
import { ledgerTopic, runTopic } from "../wake.ts";
import { type SqliteDb, task } from "./db.ts";
import { upsertRun } from "./runs.ts";

/** Appends records for a run inside the caller's write transaction; returns the new length. */
export function insertLedger(sql: SqliteDb, runId: string, records: unknown[]): number {
  const head = sql.get("SELECT last_seq FROM ledger_heads WHERE run_id = ?", runId);
  let seq = Number(head?.last_seq ?? 0);
  const insert = sql.prepare("INSERT INTO ledger(run_id, seq, record_json) VALUES (?,?,?)");
  for (const record of records) insert.run(runId, ++seq, JSON.stringify(record));
  sql.run(
    `INSERT INTO ledger_heads(run_id, last_seq) VALUES (?, ?)
     ON CONFLICT(run_id) DO UPDATE SET last_seq = excluded.last_seq`,
    runId,
    seq,
  );
  return seq;
}

export class SqliteLedgerStore implements LedgerStore {
  constructor(private readonly sql: SqliteDb, private readonly wake: WakeBus) {}

  async append(runId: string, records: StepRecord[]): Promise<number> {
    await task(() => {
      assertId("run_id", runId);
      assertLedgerRecords(records);
    });
    if (records.length === 0) return this.#count(runId);
    // Group commit: appends from concurrent ticks share one transaction (one fsync).
    const length = await this.sql.writeGrouped(() => insertLedger(this.sql, runId, records));
    this.wake.publish(ledgerTopic(runId));
    return length;
  }

  async appendWithRun(run: RunState, records: StepRecord[]): Promise<number> {
    await task(() => {
      assertRun(run);
      assertLedgerRecords(records);
    });
    const length = await this.sql.writeGrouped(() => {
      const n = records.length > 0 ? insertLedger(this.sql, run.run_id, records) : this.#count(run.run_id);
      upsertRun(this.sql, run);
      return n;
    });
    if (records.length > 0) this.wake.publish(ledgerTopic(run.run_id));
    this.wake.publish(runTopic(run.run_id));
    return length;
  }

  read(runId: string, after: number, limit: number): Promise<LedgerPage> {
    return task(() => {
      assertLedgerPage(runId, after, limit);
      const rows = this.sql.all(
        "SELECT seq, record_json FROM ledger WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        runId,
        after,
        limit,
      );
      const items = parseLedgerRows(runId, rows);
      return { items, next_after: after + items.length };
    });
  }

  count(runId: string): Promise<number> {
    return task(() => {
      assertId("run_id", runId);
      return this.#count(runId);
    });
  }

  #count(runId: string): number {
    const row = this.sql.get("SELECT last_seq FROM ledger_heads WHERE run_id = ?", runId);
    return Number(row?.last_seq ?? 0);
  }

  delete(runId: string): Promise<boolean> {
    return task(() => {
      assertId("run_id", runId);
      const removed = this.sql.write(() => {
        const n = this.sql.run("DELETE FROM ledger WHERE run_id = ?", runId).changes;
        return this.sql.run("DELETE FROM ledger_heads WHERE run_id = ?", runId).changes + n > 0;
      });
      if (removed) this.wake.publish(ledgerTopic(runId));
      return removed;
    });
  }
}
