/**
 * Cross-process wake-ups for the file backend: watch the data dir and map changed file names to
 * topics (ledger_<id>.jsonl → ledger:<id>, commands.jsonl → commands, run_<id>.json → run:<id>,
 * which `runs` listeners receive too).
 * This process's own writes are seen too; duplicate wake-ups are harmless hints. The run store is
 * told which run files changed (before the wake-up is published), so it re-checks only those.
 */
import { basename } from "node:path";
import type { WakeSource } from "../wake.ts";
import { ledgerTopic, runTopic } from "../wake.ts";
import { LEDGER_FILE } from "./ledger.ts";
import { RUN_FILE, type RunFileWatch } from "./runs.ts";
import { errorText, logger } from "../../util/log.ts";

const log = logger("store");

function topicForFile(name: string): string | null {
  const ledger = LEDGER_FILE.exec(name);
  if (ledger) return ledgerTopic(ledger[1]);
  if (name === "commands.jsonl") return "commands";
  const run = RUN_FILE.exec(name);
  if (run) return runTopic(run[1]);
  return null;
}

export function fileWatchSource(dataDir: string, runs?: RunFileWatch): WakeSource {
  return {
    start(publish) {
      const watcher = Deno.watchFs(dataDir, { recursive: false });
      runs?.reset();
      const loop = (async () => {
        try {
          for await (const event of watcher) {
            if (event.kind === "access") continue;
            if (event.flag === "rescan") runs?.reset(); // events were dropped
            const topics = new Set<string>();
            for (const path of event.paths) {
              const name = basename(path);
              const topic = topicForFile(name);
              if (topic && RUN_FILE.test(name)) runs?.changed(name);
              if (topic) topics.add(topic);
            }
            for (const topic of topics) publish(topic);
          }
        } catch (err) {
          log.warn("data dir watcher stopped", { dir: dataDir, error: errorText(err) });
        } finally {
          runs?.stopped();
        }
      })();
      return async () => {
        try {
          watcher.close();
        } catch {
          // already closed by an error
        }
        await loop;
      };
    },
  };
}
