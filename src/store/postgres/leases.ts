/**
 * Run leases in `run_leases(run_id, owner, expires_at, token)`. A claim takes the row with
 * `FOR UPDATE SKIP LOCKED` (a row another runner is claiming right now is skipped, never waited
 * for) and only when it is expired or already ours; a missing row is inserted. Every claim draws a
 * fresh fencing token from `run_lease_tokens`, which run saves and ledger appends check (fence.ts).
 * Expiry uses the database clock, so runners' clocks need not agree.
 */
import type { ClaimedRun, LeaseStore, RunnableClaim } from "../types.ts";
import { parseRunRow } from "../sql_rows.ts";
import type { PgDb, Sql, TxSql } from "./db.ts";

const ttl = (sql: Sql, ttlMs: number) => sql`now() + ${ttlMs} * interval '1 millisecond'`;

/**
 * `WHERE` clause (or nothing) that lets a write for `runId` through only while the fence's lease row
 * is unchanged. FOR SHARE holds that row until COMMIT, so a takeover (an UPDATE of the row) waits for
 * this write, and a write after a takeover sees the new token and writes nothing.
 */
export function fenceGuard(
  sql: Sql | TxSql,
  fence: { runId: string; owner: string; token: number } | null,
): ReturnType<Sql> {
  return fence
    ? sql`WHERE EXISTS (SELECT 1 FROM run_leases WHERE run_id = ${fence.runId} AND owner = ${fence.owner}
        AND token = ${fence.token} FOR SHARE)`
    : sql``;
}

export class PgLeaseStore implements LeaseStore {
  constructor(private readonly db: PgDb) {}

  async claim(key: string, owner: string, ttlMs: number): Promise<number | null> {
    const rows = await this.db.query((sql) =>
      sql`
      WITH free AS (
        SELECT run_id FROM run_leases WHERE run_id = ${key} AND (expires_at < now() OR owner = ${owner})
        FOR UPDATE SKIP LOCKED
      ), taken AS (
        UPDATE run_leases l SET owner = ${owner}, expires_at = ${ttl(sql, ttlMs)},
          token = nextval('run_lease_tokens')
        FROM free WHERE l.run_id = free.run_id RETURNING l.token
      ), inserted AS (
        INSERT INTO run_leases(run_id, owner, expires_at, token)
        SELECT ${key}, ${owner}, ${ttl(sql, ttlMs)}, nextval('run_lease_tokens')
        WHERE NOT EXISTS (SELECT 1 FROM run_leases WHERE run_id = ${key})
        ON CONFLICT (run_id) DO NOTHING RETURNING token
      )
      SELECT token FROM taken UNION ALL SELECT token FROM inserted`
    );
    return rows.length > 0 ? Number(rows[0].token) : null;
  }

  /**
   * One statement: lock up to `limit` runnable run rows (SKIP LOCKED: runners claiming at the same
   * moment split the work instead of queueing), keep those without a live lease, and take or insert
   * their lease rows (an expired row locked by someone else is skipped, not waited for).
   */
  async claimRunnable(q: RunnableClaim): Promise<ClaimedRun[]> {
    if (q.limit <= 0) return [];
    const rows = await this.db.query((sql) =>
      sql`
      WITH picked AS (
        SELECT r.run_id, r.run_json FROM runs r
        WHERE r.actor_id = 'gateway'
          AND (r.status = 'running'
            OR (r.status = 'waiting' AND r.wait_reason = 'until' AND r.wait_until <= ${q.nowIso}))
          AND NOT (r.run_id = ANY(${q.exclude}::text[]))
          AND NOT EXISTS (SELECT 1 FROM run_leases l WHERE l.run_id = r.run_id AND l.expires_at >= now())
          AND NOT r.paused
        ORDER BY r.updated_at, r.run_id
        LIMIT ${q.limit}
        FOR UPDATE OF r SKIP LOCKED
      ), stale AS (
        SELECT l.run_id FROM run_leases l JOIN picked p ON p.run_id = l.run_id
        WHERE l.expires_at < now()
        FOR UPDATE OF l SKIP LOCKED
      ), taken AS (
        UPDATE run_leases l SET owner = ${q.owner}, expires_at = ${ttl(sql, q.ttlMs)},
          token = nextval('run_lease_tokens')
        FROM stale WHERE l.run_id = stale.run_id RETURNING l.run_id, l.token
      ), inserted AS (
        INSERT INTO run_leases(run_id, owner, expires_at, token)
        SELECT p.run_id, ${q.owner}, ${ttl(sql, q.ttlMs)}, nextval('run_lease_tokens') FROM picked p
        WHERE NOT EXISTS (SELECT 1 FROM run_leases l WHERE l.run_id = p.run_id)
        ON CONFLICT (run_id) DO NOTHING RETURNING run_id, token
      ), claimed AS (SELECT run_id, token FROM taken UNION ALL SELECT run_id, token FROM inserted)
      SELECT p.run_id, p.run_json, c.token FROM picked p JOIN claimed c ON c.run_id = p.run_id`
    );
    return rows.map((row) => ({ run: parseRunRow(row), token: Number(row.token) }));
  }

  async renew(keys: string[], owner: string, ttlMs: number): Promise<string[]> {
    if (keys.length === 0) return [];
    const rows = await this.db.query((sql) =>
      sql`UPDATE run_leases SET expires_at = ${ttl(sql, ttlMs)}
        WHERE owner = ${owner} AND run_id = ANY(${keys}) RETURNING run_id`
    );
    return rows.map((r) => String(r.run_id));
  }

  async release(key: string, owner: string): Promise<void> {
    await this.db.query((sql) => sql`DELETE FROM run_leases WHERE run_id = ${key} AND owner = ${owner}`);
  }

  async releaseAll(owner: string): Promise<void> {
    await this.db.query((sql) => sql`DELETE FROM run_leases WHERE owner = ${owner}`);
  }
}
