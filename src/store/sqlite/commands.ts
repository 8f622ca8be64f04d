/**
 * SQLite command inbox: idempotent on the unique command_id (a duplicate returns the original
 * seq), cursors in `command_cursors`, outcomes in `command_outcomes`; complete()/completeMany() write
 * the outcomes and the cursor in one transaction. Appends are group-committed with the other writes
 * of the turn (SqliteDb.writeGrouped): each in its own savepoint, so a command_id repeated within a
 * batch sees the earlier insert (duplicate) and a command that fails is rolled back alone.
 */
import { commandFromRow, outcomeFromRow } from "../sql_rows.ts";
import type { CommandRecord } from "../../runtime/types.ts";
import type { CommandAppendResult, CommandOutcome, CommandStore, NewCommand, WakeBus } from "../types.ts";
import { RUNNER_CONSUMER } from "../types.ts";
import { assertId, assertOffset, validateCommand } from "../validate.ts";
import { maxSeq, validateOutcomes } from "../outcome.ts";
import { nowIso } from "../../util/time.ts";
import { type SqliteDb, task } from "./db.ts";

const COLUMNS = "seq, command_id, run_id, type, payload_json, ts, client_id";

/** Upserts a consumer cursor, never moving it backwards (caller holds a write transaction). */
export function saveCursor(sql: SqliteDb, consumer: string, cursor: number, updatedAt: string): void {
  sql.run(
    `INSERT INTO command_cursors(consumer_id, cursor, updated_at) VALUES (?,?,?)
     ON CONFLICT(consumer_id) DO UPDATE SET cursor = MAX(cursor, excluded.cursor), updated_at = excluded.updated_at`,
    consumer,
    cursor,
    updatedAt,
  );
}

export class SqliteCommandStore implements CommandStore {
  constructor(private readonly sql: SqliteDb, private readonly wake: WakeBus) {}

  /** Resolves once the command's batch is durable; the runner is woken only then. */
  async append(command: NewCommand): Promise<CommandAppendResult> {
    await task(() => validateCommand(command));
    const result = await this.sql.writeGrouped(() => this.#insert(command));
    if (result.accepted) this.wake.publish("commands");
    return result;
  }

  /** Inside the write transaction. Looks up first: INSERT OR IGNORE would burn an AUTOINCREMENT value. */
  #insert(command: NewCommand): CommandAppendResult {
    const existing = this.sql.get("SELECT seq FROM commands WHERE command_id = ?", command.command_id);
    if (existing) return { accepted: false, duplicate: true, seq: Number(existing.seq) };
    const inserted = this.sql.run(
      `INSERT INTO commands(command_id, run_id, type, payload_json, ts, client_id) VALUES (?,?,?,?,?,?)`,
      command.command_id,
      command.run_id,
      command.type,
      JSON.stringify(command.payload),
      command.ts,
      command.client_id ?? null,
    );
    return { accepted: true, duplicate: false, seq: inserted.lastInsertRowid };
  }

  listAfter(after: number, limit: number): Promise<CommandRecord[]> {
    return task(() => {
      assertOffset("after", after);
      assertOffset("limit", limit);
      return this.sql.all(`SELECT ${COLUMNS} FROM commands WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
        .map(commandFromRow);
    });
  }

  get(commandId: string): Promise<CommandRecord | null> {
    return task(() => {
      const row = this.sql.get(`SELECT ${COLUMNS} FROM commands WHERE command_id = ?`, String(commandId));
      return row ? commandFromRow(row) : null;
    });
  }

  lastSeq(): Promise<number> {
    return task(() => Number(this.sql.get("SELECT MAX(seq) AS seq FROM commands")?.seq ?? 0));
  }

  loadCursor(consumer: string = RUNNER_CONSUMER): Promise<number> {
    return task(() => {
      assertId("consumer", consumer);
      const row = this.sql.get("SELECT cursor FROM command_cursors WHERE consumer_id = ?", consumer);
      return Number(row?.cursor ?? 0);
    });
  }

  complete(outcome: CommandOutcome, consumer: string = RUNNER_CONSUMER): Promise<void> {
    return this.completeMany([outcome], consumer);
  }

  completeMany(outcomes: CommandOutcome[], consumer: string = RUNNER_CONSUMER): Promise<void> {
    return task(() => {
      validateOutcomes(outcomes);
      assertId("consumer", consumer);
      if (outcomes.length === 0) return;
      this.sql.write(() => {
        for (const outcome of outcomes) {
          this.sql.run(
            `INSERT OR IGNORE INTO command_outcomes(command_id, seq, run_id, type, status, error, applied_at, consumer_id)
             VALUES (?,?,?,?,?,?,?,?)`,
            outcome.command_id,
            outcome.seq,
            outcome.run_id,
            outcome.type,
            outcome.status,
            outcome.error,
            outcome.applied_at,
            consumer,
          );
        }
        saveCursor(this.sql, consumer, maxSeq(outcomes), nowIso());
      });
    });
  }

  getOutcome(commandId: string): Promise<CommandOutcome | null> {
    return task(() => {
      const row = this.sql.get(
        "SELECT command_id, seq, run_id, type, status, error, applied_at FROM command_outcomes WHERE command_id = ?",
        String(commandId),
      );
      if (!row) return null;
      return outcomeFromRow(row);
    });
  }
}
