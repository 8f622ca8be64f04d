/**
 * Cross-node wake-ups over LISTEN/NOTIFY. Every write transaction sends its topic with pg_notify
 * (delivered to every listening node at COMMIT, never for a rolled-back write). One dedicated
 * listening connection per process forwards them to the in-process WakeBus. Notifications sent while
 * the listener was disconnected are lost, so every (re)connect publishes `changed`, and a slow
 * safety poll publishes `changed` too: subscribers re-read the store, so a missed hint costs latency,
 * never data.
 */
import type { WakeSource } from "../wake.ts";
import { WAKE_CHANGED } from "../wake.ts";
import { errorText, logger } from "../../util/log.ts";
import type { PgDb, TxSql } from "./db.ts";

export const WAKE_CHANNEL = "gateway_wake";
const SAFETY_POLL_MS = 5_000;
const log = logger("store");

export async function notify(tx: TxSql, topic: string): Promise<void> {
  await tx`SELECT pg_notify(${WAKE_CHANNEL}, ${topic})`;
}

/**
 * LISTENs at once (before the stores are handed out, so no write made after open can be missed) and
 * forwards to whoever the wake bus attaches while it has subscribers.
 */
export async function openNotifySource(
  db: PgDb,
  safetyPollMs = SAFETY_POLL_MS,
): Promise<{ source: WakeSource; close: () => Promise<void> }> {
  let forward: ((topic: string) => void) | null = null;
  const sub = await db.sql.listen(WAKE_CHANNEL, (topic) => forward?.(topic), () => forward?.(WAKE_CHANGED));
  const source: WakeSource = {
    start(publish) {
      forward = publish;
      const timer = setInterval(() => publish(WAKE_CHANGED), safetyPollMs);
      return () => {
        forward = null;
        clearInterval(timer);
        return Promise.resolve();
      };
    },
  };
  return {
    source,
    close: () => sub.unlisten().catch((err) => log.warn("UNLISTEN failed", { error: errorText(err) })),
  };
}
