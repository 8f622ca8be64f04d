/**
 * Readiness (`GET /api/health/ready`): can this gateway do its job right now? Three parts, each
 * checked on every call:
 * - store: a run query answers and the data dir takes a write (probe file written and removed);
 * - runner: a runner heartbeat (written by whichever process holds the runner lock, see
 *   runner/heartbeat.ts) is at most RUNNER_STALE_MS old, so `serve --no-runner` is only ready
 *   while a `gateway runner` works the same data dir; on a shared store (PostgreSQL) the heartbeats
 *   of every runner, on any machine, are read from the store and listed;
 * - bundles: at least one bundle is loaded (runs cannot start otherwise).
 */
import { join } from "node:path";
import type { Gateway } from "../gateway.ts";
import { HEARTBEAT_EVERY_MS, readHeartbeat } from "./heartbeat.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { errorText } from "../util/log.ts";
import type { RunnerRegistry, RunnerSeen } from "../store/types.ts";

/** A heartbeat older than this (several missed beats) means no runner is working the data dir. */
export const RUNNER_STALE_MS = 5 * HEARTBEAT_EVERY_MS;
const PROBE_FILE = ".ready-probe";

export interface Check {
  ok: boolean;
  detail: string;
}

export interface RunnerCheck extends Check {
  /** Shared store only: the runners seen within RUNNER_STALE_MS, most recent first. */
  runners?: RunnerSeen[];
}

type Part = "store" | "runner" | "bundles";

export interface Readiness {
  status: "ready" | "not_ready";
  /** Names of the failing parts, e.g. ["runner"]. */
  failing: Part[];
  checks: { store: Check; runner: RunnerCheck; bundles: Check };
}

async function storeCheck(gw: Gateway): Promise<Check> {
  try {
    await gw.stores.runs.list({ limit: 1 });
    const probe = join(gw.config.dataDir, PROBE_FILE);
    await writeFileAtomic(probe, new Date().toISOString());
    await Deno.remove(probe);
    return { ok: true, detail: `${gw.stores.backend} store readable and writable` };
  } catch (err) {
    return { ok: false, detail: `Cannot use the ${gw.stores.backend} store: ${errorText(err)}` };
  }
}

async function registryCheck(registry: RunnerRegistry): Promise<RunnerCheck> {
  try {
    const runners = await registry.seen(RUNNER_STALE_MS);
    if (runners.length === 0) {
      return {
        ok: false,
        detail: `no runner heartbeat in the store within ${RUNNER_STALE_MS / 1000} s (is a runner running?)`,
        runners,
      };
    }
    const list = runners.map((r) => `${r.host} pid ${r.pid} ${(r.age_ms / 1000).toFixed(1)} s ago`).join(
      ", ",
    );
    return { ok: true, detail: `${runners.length} runner(s) alive: ${list}`, runners };
  } catch (err) {
    return { ok: false, detail: `Cannot read the runner heartbeats: ${errorText(err)}` };
  }
}

async function runnerCheck(gw: Gateway): Promise<RunnerCheck> {
  if (gw.stores.runners) return await registryCheck(gw.stores.runners);
  try {
    const heartbeat = await readHeartbeat(gw.config.dataDir);
    if (!heartbeat) return { ok: false, detail: "no runner heartbeat yet (is a runner running?)" };
    const ageMs = Date.now() - Date.parse(heartbeat.at);
    const seen = `last runner heartbeat ${(ageMs / 1000).toFixed(1)} s ago (pid ${heartbeat.pid})`;
    return ageMs <= RUNNER_STALE_MS
      ? { ok: true, detail: seen }
      : { ok: false, detail: `${seen}; older than ${RUNNER_STALE_MS / 1000} s` };
  } catch (err) {
    return { ok: false, detail: `Cannot read the runner heartbeat: ${errorText(err)}` };
  }
}

function bundlesCheck(gw: Gateway): Check {
  const count = gw.bundles.list().length;
  const errors = gw.bundles.errors().length;
  const bad = errors ? `, ${errors} failed to load` : "";
  return count > 0
    ? { ok: true, detail: `${count} bundle version(s) loaded${bad}` }
    : { ok: false, detail: `no bundles loaded from ${gw.config.flowsDir}${bad}` };
}

export async function readiness(gw: Gateway): Promise<Readiness> {
  const [store, runner] = await Promise.all([storeCheck(gw), runnerCheck(gw)]);
  const checks = { store, runner, bundles: bundlesCheck(gw) };
  const failing = (Object.keys(checks) as Part[]).filter((part) => !checks[part].ok);
  return { status: failing.length ? "not_ready" : "ready", failing, checks };
}
