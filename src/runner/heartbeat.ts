/**
 * The runner's heartbeat: while it holds the data-dir lock, the active runner rewrites
 * `<dataDir>/runner/heartbeat.json` every HEARTBEAT_EVERY_MS (atomically), so any process sharing
 * the data dir (`serve --no-runner`, readiness probes) can tell whether work is being done. It lives
 * in a subdirectory so its renames leave the data dir's mtime alone (the file run store reuses its
 * directory scan while that mtime is unchanged).
 * With a store that runners on several machines share (PostgreSQL), the beat goes into the store's
 * runner registry instead, keyed by the runner's lease owner id, so every API node sees every runner.
 */
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../util/atomic.ts";
import { errorText, logger } from "../util/log.ts";
import { nowIso } from "../util/time.ts";
import { abortableDelay } from "./lock.ts";
import type { RunnerRegistry } from "../store/types.ts";

export const HEARTBEAT_FILE = join("runner", "heartbeat.json");
export const HEARTBEAT_EVERY_MS = 2_000;

export interface Heartbeat {
  pid: number;
  /** When this runner took the lock. */
  started_at: string;
  /** When the runner last wrote this file. */
  at: string;
}

const log = logger("runner");

/** Where beats go: the data dir's file, or the shared store's registry under this runner's id. */
export type BeatTarget = { dataDir: string } | { registry: RunnerRegistry; runnerId: string };

/** Writes the heartbeat until `signal` aborts; write errors are logged and retried on the next beat. */
export async function beat(target: BeatTarget, signal: AbortSignal): Promise<void> {
  const started_at = nowIso();
  let write: () => Promise<void>;
  if ("registry" in target) {
    const runner = { runner_id: target.runnerId, pid: Deno.pid, started_at };
    write = () => target.registry.beat(runner);
  } else {
    const file = join(target.dataDir, HEARTBEAT_FILE);
    await Deno.mkdir(dirname(file), { recursive: true, mode: 0o700 }).catch(() => {}); // a failure shows below
    write = () => {
      const heartbeat: Heartbeat = { pid: Deno.pid, started_at, at: new Date().toISOString() };
      return writeFileAtomic(file, JSON.stringify(heartbeat) + "\n");
    };
  }
  let failing = false;
  while (!signal.aborted) {
    try {
      await write();
      failing = false;
    } catch (err) {
      if (!failing) log.warn("cannot write the runner heartbeat", { error: errorText(err) });
      failing = true;
    }
    await abortableDelay(HEARTBEAT_EVERY_MS, signal);
  }
  if ("registry" in target) {
    await target.registry.remove(target.runnerId).catch((err) =>
      log.warn("cannot remove the runner heartbeat; it goes stale by itself", { error: errorText(err) })
    );
  }
}

/** The last heartbeat written to `dataDir`, or null when no runner ever wrote one. */
export async function readHeartbeat(dataDir: string): Promise<Heartbeat | null> {
  try {
    return JSON.parse(await Deno.readTextFile(join(dataDir, HEARTBEAT_FILE))) as Heartbeat;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}
