/**
 * Cross-process wake-ups for the file backend: watch the data dir and map changed file names to
 * topics (ledger_<id>.jsonl → ledger:<id>, commands.jsonl → commands, run_*.json → runs).
 * This process's own writes are seen too; duplicate wake-ups are harmless hints.
 */
import { basename } from "node:path";
import type { WakeSource } from "../wake.ts";
import { ledgerTopic } from "../wake.ts";
import { LEDGER_FILE } from "./ledger.ts";
import { RUN_FILE } from "./runs.ts";
import { errorText, logger } from "../../util/log.ts";

const log = logger("store");

function topicForFile(name: string): string | null {
  const ledger = LEDGER_FILE.exec(name);
  if (ledger) return ledgerTopic(ledger[1]);
  if (name === "commands.jsonl") return "commands";
  if (RUN_FILE.test(name)) return "runs";
  return null;
}

export function fileWatchSource(dataDir: string): WakeSource {
  return {
    start(publish) {
      const watcher = Deno.watchFs(dataDir, { recursive: false });
      const loop = (async () => {
        try {
          for await (const event of watcher) {
            if (event.kind === "access") continue;
            const topics = new Set<string>();
            for (const path of event.paths) {
              const topic = topicForFile(basename(path));
              if (topic) topics.add(topic);
            }
            for (const topic of topics) publish(topic);
          }
        } catch (err) {
          log.warn("data dir watcher stopped", { dir: dataDir, error: errorText(err) });
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
