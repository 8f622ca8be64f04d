/**
 * Runner heartbeats in `runners(runner_id, host, pid, started_at, last_seen)`: every runner process
 * upserts its row every few seconds and deletes it when it stops cleanly; any API node's readiness
 * lists the rows seen recently (ages on the database clock). `host` is the runner's address as
 * PostgreSQL sees the connection (the permission set grants no system information, so a process
 * cannot read its own host name); `local` over a unix socket. Rows of runners gone for a day are
 * pruned by the beats of the living.
 */
import type { RunnerRegistry, RunnerSeen } from "../types.ts";
import type { PgDb } from "./db.ts";

const PRUNE_AFTER = "1 day";

export class PgRunnerRegistry implements RunnerRegistry {
  constructor(private readonly db: PgDb) {}

  async beat(r: { runner_id: string; pid: number; started_at: string }): Promise<void> {
    await this.db.query((sql) =>
      sql`
      WITH pruned AS (DELETE FROM runners WHERE last_seen < now() - ${PRUNE_AFTER}::interval)
      INSERT INTO runners(runner_id, host, pid, started_at, last_seen)
      VALUES (${r.runner_id}, COALESCE(host(inet_client_addr()), 'local'), ${r.pid}, ${r.started_at}, now())
      ON CONFLICT (runner_id) DO UPDATE SET last_seen = now(), host = excluded.host, pid = excluded.pid`
    );
  }

  async seen(withinMs: number): Promise<RunnerSeen[]> {
    const rows = await this.db.query((sql) =>
      sql`SELECT runner_id, host, pid, started_at, last_seen,
          (extract(epoch FROM now() - last_seen) * 1000)::int AS age_ms
        FROM runners WHERE last_seen >= now() - ${withinMs} * interval '1 millisecond'
        ORDER BY last_seen DESC, runner_id`
    );
    return rows.map((row) => ({
      runner_id: String(row.runner_id),
      host: String(row.host),
      pid: Number(row.pid),
      started_at: new Date(row.started_at as string).toISOString(),
      last_seen: new Date(row.last_seen as string).toISOString(),
      age_ms: Math.max(0, Number(row.age_ms)),
    }));
  }

  async remove(runnerId: string): Promise<void> {
    await this.db.query((sql) => sql`DELETE FROM runners WHERE runner_id = ${runnerId}`);
  }
}
