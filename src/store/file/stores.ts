/** Opens the file backend on a data dir (upstream layout, shared safely between processes). */
import type { Stores } from "../types.ts";
import { InProcessWakeBus } from "../wake.ts";
import { FileRunStore } from "./runs.ts";
import { FileLedgerStore } from "./ledger.ts";
import { FileCommandStore } from "./commands.ts";
import { FileArtifactStore } from "./artifacts.ts";
import { fileWatchSource } from "./watch.ts";

export function openFileStores(dataDir: string): Stores {
  let runs: FileRunStore | null = null;
  const wake = new InProcessWakeBus(fileWatchSource(dataDir, {
    reset: () => runs?.watch.reset(),
    stopped: () => runs?.watch.stopped(),
    changed: (name) => runs?.watch.changed(name),
  }));
  runs = new FileRunStore(dataDir, wake);
  const commands = new FileCommandStore(dataDir, wake);
  const artifacts = new FileArtifactStore(dataDir);
  return {
    backend: "file",
    runs,
    ledger: new FileLedgerStore(dataDir, wake),
    commands,
    artifacts,
    wake,
    async close() {
      await wake.close();
      await commands.close();
      await artifacts.close();
    },
  };
}
