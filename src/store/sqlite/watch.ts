/**
 * Cross-process wake-ups for SQLite: while someone listens, poll `PRAGMA data_version` (it changes
 * only when ANOTHER connection commits). On a change, publish precise topics: `ledger:<id>` for runs
 * whose ledger rows are newer than the last seen rowid, `commands` when the inbox grew, and `runs`
 * (run rows carry no change marker, so any foreign commit may have touched them).
 */
import type { WakeSource } from "../wake.ts";
import { ledgerTopic, WAKE_CHANGED } from "../wake.ts";
import { errorText, logger } from "../../util/log.ts";
import type { SqliteDb } from "./db.ts";

const DATA_VERSION_POLL_MS = 30;
const log = logger("store");

export function dataVersionSource(sql: SqliteDb, intervalMs = DATA_VERSION_POLL_MS): WakeSource {
  return {
    start(publish) {
      const version = () => Number(sql.get("PRAGMA data_version")?.data_version);
      const maxLedgerRowid = () => Number(sql.get("SELECT MAX(rowid) AS m FROM ledger")?.m ?? 0);
      const maxCommandSeq = () => Number(sql.get("SELECT MAX(seq) AS m FROM commands")?.m ?? 0);
      let lastVersion = version();
      let lastRowid = maxLedgerRowid();
      let lastSeq = maxCommandSeq();
      const timer = setInterval(() => {
        if (!sql.db.isOpen) return;
        try {
          const v = version();
          if (v === lastVersion) return;
          lastVersion = v;
          // Top first, then the runs up to it: a commit landing between the two reads is left for the
          // next poll (it changes data_version again) instead of being skipped.
          const top = maxLedgerRowid();
          const runs = sql.all(
            "SELECT DISTINCT run_id FROM ledger WHERE rowid > ? AND rowid <= ?",
            lastRowid,
            top,
          );
          lastRowid = top;
          for (const row of runs) publish(ledgerTopic(String(row.run_id)));
          const seq = maxCommandSeq();
          if (seq !== lastSeq) publish("commands");
          lastSeq = seq;
          publish("runs");
        } catch (err) {
          log.warn("data_version poll failed", { error: errorText(err) });
          publish(WAKE_CHANGED);
        }
      }, intervalMs);
      return () => {
        clearInterval(timer);
        return Promise.resolve();
      };
    },
  };
}
