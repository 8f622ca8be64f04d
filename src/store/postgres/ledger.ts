/**
 * PostgreSQL ledger: per-run seq allocated from `ledger_heads` with an upsert that row-locks the head
 * until COMMIT, so concurrent appends to one run (from any node) serialise and stay contiguous.
 */
import type { RunState, StepRecord } from "../../runtime/types.ts";
import type { LedgerPage, LedgerStore, WakeBus } from "../types.ts";
import { parseLedgerRows } from "../sql_rows.ts";
import { assertId, assertLedgerPage, assertLedgerRecords, assertRun } from "../validate.ts";
import { ledgerTopic } from "../wake.ts";
import type { PgDb, Sql, TxSql } from "./db.ts";
import { notify, notifyEach, WAKE_CHANNEL } from "./notify.ts";
import { runUpsert, saveTopics } from "./runs.ts";
import type { JustSaved } from "./just_saved.ts";
import { fenceFor } from "../fence.ts";
import { LeaseLostError } from "../errors.ts";
import { fenceGuard } from "./leases.ts";

/** Appends records inside the caller's transaction; returns the new length. */
export async function insertLedger(tx: TxSql, runId: string, records: unknown[]): Promise<number> {
  const [head] = await tx`
    INSERT INTO ledger_heads(run_id, last_seq) VALUES (${runId}, ${records.length})
    ON CONFLICT (run_id) DO UPDATE SET last_seq = ledger_heads.last_seq + ${records.length}
    RETURNING last_seq`;
  const last = Number(head.last_seq);
  const first = last - records.length + 1;
  const rows = records.map((record, i) => ({
    run_id: runId,
    seq: first + i,
    record_json: JSON.stringify(record),
  }));
  await tx`INSERT INTO ledger ${tx(rows, "run_id", "seq", "record_json")}`;
  return last;
}

/**
 * The `head` and `ins` clauses of a `WITH`: the run's head upsert, made only when `when` (a
 * `FROM`/`WHERE` tail) lets it, row-locks the head until COMMIT; the records take the seqs below it.
 */
function headAndRows(sql: Sql, runId: string, json: string[], when: ReturnType<Sql>): ReturnType<Sql> {
  return sql`head AS (
        INSERT INTO ledger_heads(run_id, last_seq) SELECT ${runId}, ${json.length}::bigint ${when}
        ON CONFLICT (run_id) DO UPDATE SET last_seq = ledger_heads.last_seq + ${json.length}
        RETURNING last_seq
      ), ins AS (
        INSERT INTO ledger(run_id, seq, record_json)
        SELECT ${runId}, head.last_seq - ${json.length} + t.ord, t.rec
        FROM head, unnest(${json}::text[]) WITH ORDINALITY AS t(rec, ord)
      )`;
}

export class PgLedgerStore implements LedgerStore {
  constructor(
    private readonly db: PgDb,
    private readonly wake: WakeBus,
    private readonly justSaved: JustSaved,
  ) {}

  async append(runId: string, records: StepRecord[]): Promise<number> {
    assertId("run_id", runId);
    assertLedgerRecords(records);
    if (records.length === 0) return await this.count(runId);
    // One statement (one round trip, its own transaction): the head upsert row-locks the run's head
    // until COMMIT, the rows take the seqs below the new head, NOTIFY goes out at COMMIT.
    // Under a lease fence (fence.ts) nothing is written once the lease changed hands.
    const json = records.map((r) => JSON.stringify(r));
    const fence = fenceFor(runId);
    this.justSaved.forget(fence);
    const [row] = await this.db.query((sql) =>
      sql`
      WITH ${
        headAndRows(sql, runId, json, fenceGuard(sql, fence))
      }, wake AS (SELECT pg_notify(${WAKE_CHANNEL}, ${ledgerTopic(runId)}))
      SELECT head.last_seq FROM head, wake`
    );
    if (!row) throw new LeaseLostError(runId);
    const length = Number(row.last_seq);
    this.wake.publish(ledgerTopic(runId));
    return length;
  }

  /**
   * One statement (one round trip, one transaction): the run upsert, fenced like a save, and only if
   * it wrote, the ledger rows after it; the NOTIFYs of a save and an append go out at COMMIT.
   */
  async appendWithRun(run: RunState, records: StepRecord[]): Promise<number> {
    assertRun(run);
    assertLedgerRecords(records);
    const runId = run.run_id;
    const json = records.map((r) => JSON.stringify(r));
    const fence = fenceFor(runId);
    this.justSaved.forget(fence);
    const topics = [...saveTopics(runId, fence), ...(json.length > 0 ? [ledgerTopic(runId)] : [])];
    const runJson = JSON.stringify(run);
    const rows = await this.db.query((sql) =>
      sql`
      WITH up AS (${runUpsert(sql, run, fence, runJson)}),
        ${headAndRows(sql, runId, json, sql`FROM up WHERE ${json.length}::int > 0`)}
      SELECT COALESCE((SELECT last_seq FROM head), (SELECT last_seq FROM ledger_heads WHERE run_id = ${runId}), 0)
        AS last_seq
      FROM up LEFT JOIN LATERAL (${notifyEach(sql, topics)}) wake ON true`
    );
    if (rows.length === 0) throw new LeaseLostError(runId);
    this.justSaved.remember(fence, runJson);
    topics.forEach((topic) => this.wake.publish(topic));
    return Number(rows[0].last_seq);
  }

  async read(runId: string, after: number, limit: number): Promise<LedgerPage> {
    assertLedgerPage(runId, after, limit);
    const rows = await this.db.query((sql) =>
      sql`SELECT seq, record_json FROM ledger WHERE run_id = ${runId} AND seq > ${after}
        ORDER BY seq LIMIT ${limit}`
    );
    const items = parseLedgerRows(runId, rows);
    return { items, next_after: after + items.length };
  }

  async count(runId: string): Promise<number> {
    assertId("run_id", runId);
    const rows = await this.db.query((sql) => sql`SELECT last_seq FROM ledger_heads WHERE run_id = ${runId}`);
    return Number(rows[0]?.last_seq ?? 0);
  }

  async delete(runId: string): Promise<boolean> {
    assertId("run_id", runId);
    const removed = await this.db.tx(async (tx) => {
      const n = (await tx`DELETE FROM ledger WHERE run_id = ${runId}`).count;
      const h = (await tx`DELETE FROM ledger_heads WHERE run_id = ${runId}`).count;
      if (n + h > 0) await notify(tx, ledgerTopic(runId));
      return n + h > 0;
    });
    if (removed) this.wake.publish(ledgerTopic(runId));
    return removed;
  }
}
