/**
 * The runner's heartbeat: while it holds the data-dir lock, the active runner rewrites
 * `<dataDir>/runner/heartbeat.json` every HEARTBEAT_EVERY_MS (atomically), so any process sharing
 * the data dir (`serve --no-runner`, readiness probes) can tell whether work is being done. It lives
 * in a subdirectory so its renames leave the data dir's mtime alone (the file run store reuses its
 * directory scan while that mtime is unchanged).
 */
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../util/atomic.ts";
import { errorText, logger } from "../util/log.ts";
import { nowIso } from "../util/time.ts";
import { abortableDelay } from "./lock.ts";

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

/** Writes the heartbeat until `signal` aborts; write errors are logged and retried on the next beat. */
export async function beat(dataDir: string, signal: AbortSignal): Promise<void> {
  const file = join(dataDir, HEARTBEAT_FILE);
  await Deno.mkdir(dirname(file), { recursive: true, mode: 0o700 }).catch(() => {}); // a failure shows below
  const started_at = nowIso();
  let failing = false;
  while (!signal.aborted) {
    const heartbeat: Heartbeat = { pid: Deno.pid, started_at, at: new Date().toISOString() };
    try {
      await writeFileAtomic(file, JSON.stringify(heartbeat) + "\n");
      failing = false;
    } catch (err) {
      if (!failing) log.warn("cannot write the runner heartbeat", { file, error: errorText(err) });
      failing = true;
    }
    await abortableDelay(HEARTBEAT_EVERY_MS, signal);
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
