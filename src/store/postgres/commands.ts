/**
 * PostgreSQL command inbox. Seqs are allocated as MAX+1 under a transaction advisory lock, so they
 * are gapless and become visible in seq order: a reader that saw seq N can never later find a
 * smaller seq committed (a plain sequence would let a slower transaction commit N-1 after N, and a
 * consumer cursor would skip it). complete()/completeMany() write the outcomes and the cursor in one transaction.
 */
import { commandFromRow, outcomeFromRow } from "../sql_rows.ts";
import type { CommandRecord } from "../../runtime/types.ts";
import type { CommandAppendResult, CommandOutcome, CommandStore, NewCommand, WakeBus } from "../types.ts";
import { RUNNER_CONSUMER } from "../types.ts";
import { assertId, assertOffset, validateCommand } from "../validate.ts";
import { maxSeq, validateOutcomes } from "../outcome.ts";
import { nowIso } from "../../util/time.ts";
import type { PgDb, TxSql } from "./db.ts";
import { notify } from "./notify.ts";

const APPEND_LOCK = 7_261_024_015;

/** Inserts a command with the given seq inside the caller's transaction (also used by `migrate`). */
export async function insertCommand(tx: TxSql, command: NewCommand, seq: number): Promise<number> {
  const [row] = await tx`
    INSERT INTO commands(seq, command_id, run_id, type, payload_json, ts, client_id)
    VALUES (${seq}, ${command.command_id}, ${command.run_id}, ${command.type},
      ${JSON.stringify(command.payload)}, ${command.ts}, ${command.client_id ?? null})
    RETURNING seq`;
  return Number(row.seq);
}

/** Upserts a consumer cursor, never moving it backwards (inside the caller's transaction). */
export async function saveCursor(
  tx: TxSql,
  consumer: string,
  cursor: number,
  updatedAt: string,
): Promise<void> {
  await tx`
    INSERT INTO command_cursors(consumer_id, cursor, updated_at) VALUES (${consumer}, ${cursor}, ${updatedAt})
    ON CONFLICT (consumer_id) DO UPDATE SET cursor = GREATEST(command_cursors.cursor, excluded.cursor),
      updated_at = excluded.updated_at`;
}

const COLUMNS = "seq, command_id, run_id, type, payload_json, ts, client_id";

export class PgCommandStore implements CommandStore {
  constructor(private readonly db: PgDb, private readonly wake: WakeBus) {}

  async append(command: NewCommand): Promise<CommandAppendResult> {
    validateCommand(command);
    const result = await this.db.tx(async (tx): Promise<CommandAppendResult> => {
      await tx`SELECT pg_advisory_xact_lock(${APPEND_LOCK})`;
      const existing = await tx`SELECT seq FROM commands WHERE command_id = ${command.command_id}`;
      if (existing.length) return { accepted: false, duplicate: true, seq: Number(existing[0].seq) };
      const [{ next }] = await tx`SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM commands`;
      const seq = await insertCommand(tx, command, Number(next));
      await notify(tx, "commands");
      return { accepted: true, duplicate: false, seq };
    });
    if (result.accepted) this.wake.publish("commands");
    return result;
  }

  async listAfter(after: number, limit: number): Promise<CommandRecord[]> {
    assertOffset("after", after);
    assertOffset("limit", limit);
    const rows = await this.db.query((sql) =>
      sql.unsafe(`SELECT ${COLUMNS} FROM commands WHERE seq > $1 ORDER BY seq LIMIT $2`, [after, limit])
    );
    return rows.map(commandFromRow);
  }

  async get(commandId: string): Promise<CommandRecord | null> {
    const rows = await this.db.query((sql) =>
      sql.unsafe(`SELECT ${COLUMNS} FROM commands WHERE command_id = $1`, [String(commandId)])
    );
    return rows.length ? commandFromRow(rows[0]) : null;
  }

  async lastSeq(): Promise<number> {
    const rows = await this.db.query((sql) => sql`SELECT COALESCE(MAX(seq), 0) AS seq FROM commands`);
    return Number(rows[0].seq);
  }

  async loadCursor(consumer: string = RUNNER_CONSUMER): Promise<number> {
    assertId("consumer", consumer);
    const rows = await this.db.query((sql) =>
      sql`SELECT cursor FROM command_cursors WHERE consumer_id = ${consumer}`
    );
    return Number(rows[0]?.cursor ?? 0);
  }

  complete(outcome: CommandOutcome, consumer: string = RUNNER_CONSUMER): Promise<void> {
    return this.completeMany([outcome], consumer);
  }

  async completeMany(outcomes: CommandOutcome[], consumer: string = RUNNER_CONSUMER): Promise<void> {
    validateOutcomes(outcomes);
    assertId("consumer", consumer);
    if (outcomes.length === 0) return;
    await this.db.tx(async (tx) => {
      for (const outcome of outcomes) {
        await tx`
          INSERT INTO command_outcomes(command_id, seq, run_id, type, status, error, applied_at, consumer_id)
          VALUES (${outcome.command_id}, ${outcome.seq}, ${outcome.run_id}, ${outcome.type}, ${outcome.status},
            ${outcome.error}, ${outcome.applied_at}, ${consumer})
          ON CONFLICT (command_id) DO NOTHING`;
      }
      await saveCursor(tx, consumer, maxSeq(outcomes), nowIso());
    });
  }

  async getOutcome(commandId: string): Promise<CommandOutcome | null> {
    const rows = await this.db.query((sql) =>
      sql`SELECT command_id, seq, run_id, type, status, error, applied_at FROM command_outcomes
        WHERE command_id = ${String(commandId)}`
    );
    const row = rows[0];
    if (!row) return null;
    return outcomeFromRow(row);
  }
}
