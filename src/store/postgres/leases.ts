/**
 * Run leases in `run_leases(run_id, owner, expires_at)`. A claim takes the row with
 * `FOR UPDATE SKIP LOCKED` (a row another runner is claiming right now is skipped, never waited
 * for) and only when it is expired or already ours; a missing row is inserted. Expiry uses the
 * database clock, so runners' clocks need not agree.
 */
import type { LeaseStore } from "../types.ts";
import type { PgDb } from "./db.ts";

export class PgLeaseStore implements LeaseStore {
  constructor(private readonly db: PgDb) {}

  async claim(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const rows = await this.db.query((sql) =>
      sql`
      WITH free AS (
        SELECT run_id FROM run_leases WHERE run_id = ${key} AND (expires_at < now() OR owner = ${owner})
        FOR UPDATE SKIP LOCKED
      ), taken AS (
        UPDATE run_leases l SET owner = ${owner}, expires_at = now() + ${ttlMs} * interval '1 millisecond'
        FROM free WHERE l.run_id = free.run_id RETURNING l.run_id
      ), inserted AS (
        INSERT INTO run_leases(run_id, owner, expires_at)
        SELECT ${key}, ${owner}, now() + ${ttlMs} * interval '1 millisecond'
        WHERE NOT EXISTS (SELECT 1 FROM run_leases WHERE run_id = ${key})
        ON CONFLICT (run_id) DO NOTHING RETURNING run_id
      )
      SELECT run_id FROM taken UNION ALL SELECT run_id FROM inserted`
    );
    return rows.length > 0;
  }

  async renew(keys: string[], owner: string, ttlMs: number): Promise<string[]> {
    if (keys.length === 0) return [];
    const rows = await this.db.query((sql) =>
      sql`UPDATE run_leases SET expires_at = now() + ${ttlMs} * interval '1 millisecond'
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
