/**
 * Cross-node wake-ups over LISTEN/NOTIFY. Every write transaction sends its topic with pg_notify
 * (delivered to every listening node at COMMIT, never for a rolled-back write). One dedicated
 * listening connection per process forwards them to the in-process WakeBus. Topics travel on two
 * channels: WORK_CHANNEL for what runners act on (commands, runs to claim, bundle changes) and
 * WAKE_CHANNEL for the rest (every step appended, every run saved: what SSE streams follow). A
 * runner-only process listens to the work channel alone, so the steps of every run on every node
 * do not wake every runner (and its PostgreSQL backend). Notifications sent while
 * the listener was disconnected are lost, so every (re)connect publishes `changed`, and a slow
 * safety poll publishes `changed` too: subscribers re-read the store, so a missed hint costs latency,
 * never data.
 */
import type { WakeSource } from "../wake.ts";
import { BUNDLES_CHANGED, RUNS_CLAIMABLE, WAKE_CHANGED } from "../wake.ts";
import { errorText, logger } from "../../util/log.ts";
import type { PgDb, Sql, TxSql } from "./db.ts";

export const WAKE_CHANNEL = "gateway_wake";
export const WORK_CHANNEL = "gateway_work";
const WORK_TOPICS = new Set(["commands", RUNS_CLAIMABLE, BUNDLES_CHANGED]);

/** Which wake-ups a process listens to: all of them, or only those a runner acts on. */
export type WakeScope = "all" | "work";

/** The channel a topic is sent on. */
export function channelFor(topic: string): string {
  return WORK_TOPICS.has(topic) ? WORK_CHANNEL : WAKE_CHANNEL;
}
const SAFETY_POLL_MS = 5_000;
const log = logger("store");

export async function notify(tx: TxSql, topic: string): Promise<void> {
  await tx`SELECT pg_notify(${channelFor(topic)}, ${topic})`;
}

/** A `SELECT` fragment that sends every topic in `topics` (one row each), for use inside a statement. */
export function notifyEach(sql: Sql | TxSql, topics: string[]): ReturnType<Sql> {
  return sql`SELECT pg_notify(c, t) FROM unnest(${
    topics.map(channelFor)
  }::text[], ${topics}::text[]) AS n(c, t)`;
}

/**
 * LISTENs at once (before the stores are handed out, so no write made after open can be missed) and
 * forwards to whoever the wake bus attaches while it has subscribers.
 */
export async function openNotifySource(
  db: PgDb,
  scope: WakeScope = "all",
  safetyPollMs = SAFETY_POLL_MS,
): Promise<{ source: WakeSource; close: () => Promise<void> }> {
  let forward: ((topic: string) => void) | null = null;
  const channels = scope === "all" ? [WORK_CHANNEL, WAKE_CHANNEL] : [WORK_CHANNEL];
  // The driver runs every LISTEN on one connection.
  const subs = await Promise.all(
    channels.map((channel) =>
      db.sql.listen(channel, (topic) => forward?.(topic), () => forward?.(WAKE_CHANGED))
    ),
  );
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
    close: async () => {
      for (const sub of subs) {
        await sub.unlisten().catch((err) => log.warn("UNLISTEN failed", { error: errorText(err) }));
      }
    },
  };
}
