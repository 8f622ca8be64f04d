/** Opens the SQLite backend: runs, ledger, commands and artifact metadata in the DB; blobs on files. */
import type { Stores } from "../types.ts";
import { InProcessWakeBus } from "../wake.ts";
import { SqliteDb } from "./db.ts";
import { SqliteRunStore } from "./runs.ts";
import { SqliteLedgerStore } from "./ledger.ts";
import { SqliteCommandStore } from "./commands.ts";
import { SqliteArtifactStore } from "./artifacts.ts";
import { dataVersionSource } from "./watch.ts";

export function openSqliteStores(dataDir: string, dbPath: string): Stores {
  const sql = new SqliteDb(dbPath);
  const wake = new InProcessWakeBus(dataVersionSource(sql));
  const artifacts = new SqliteArtifactStore(sql, dataDir);
  return {
    backend: "sqlite",
    runs: new SqliteRunStore(sql, wake),
    ledger: new SqliteLedgerStore(sql, wake),
    commands: new SqliteCommandStore(sql, wake),
    artifacts,
    wake,
    async close() {
      await wake.close();
      await sql.drain();
      sql.close();
    },
  };
}
