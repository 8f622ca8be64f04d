/**
 * Opens the PostgreSQL backend: runs, ledger, commands, outcomes, cursors and run leases in the
 * database; artifacts stay content-addressed files under the data dir, as with SQLite (large blobs
 * would bloat WAL, backups and replication, and the API node that stores one is the one that serves
 * it unless the data dir is shared; see docs/operations.md).
 */
import type { Stores } from "../types.ts";
import { InProcessWakeBus } from "../wake.ts";
import { FileArtifactStore } from "../file/artifacts.ts";
import { PgDb } from "./db.ts";
import { migrateSchema } from "./schema.ts";
import { PgRunStore } from "./runs.ts";
import { PgLedgerStore } from "./ledger.ts";
import { PgCommandStore } from "./commands.ts";
import { channelFor, openNotifySource, type WakeScope } from "./notify.ts";
import { PgLeaseStore } from "./leases.ts";
import { PgRunnerRegistry } from "./runners.ts";
import { JustSaved } from "./just_saved.ts";
import { logger } from "../../util/log.ts";

const log = logger("store");

export interface PgStores extends Stores {
  readonly db: PgDb;
}

export async function openPostgresStores(
  dataDir: string,
  url: string,
  poolSize: number,
  wakeScope: WakeScope = "all",
): Promise<PgStores> {
  const db = new PgDb(url, { max: poolSize });
  let notifications;
  try {
    const applied = await db.query((sql) => migrateSchema(sql));
    if (applied.length) log.info("PostgreSQL schema migrated", { versions: applied.join(",") });
    notifications = await db.query(() => openNotifySource(db, wakeScope));
  } catch (err) {
    await db.close();
    throw err;
  }
  const wake = new InProcessWakeBus(notifications.source);
  const artifacts = new FileArtifactStore(dataDir);
  const justSaved = new JustSaved();
  return {
    backend: "postgres",
    db,
    runs: new PgRunStore(db, wake, justSaved),
    ledger: new PgLedgerStore(db, wake, justSaved),
    commands: new PgCommandStore(db, wake),
    leases: new PgLeaseStore(db),
    runners: new PgRunnerRegistry(db),
    artifacts,
    wake,
    async announce(topic) {
      // Delivered back to this node's listener too, like every other node's.
      await db.query((sql) => sql`SELECT pg_notify(${channelFor(topic)}, ${topic})`);
    },
    async close() {
      await wake.close();
      await notifications.close();
      await artifacts.close();
      await db.close();
    },
  };
}
