/**
 * Data-dir samples for the "opens as is" and migrate tests: our own, written by the real runtime on the
 * file store (a completed run, a parent with its completed child, a run waiting for a user), and, in the
 * opt-in compat group, the upstream ledger samples.
 */
import { join } from "node:path";
import { askUserFlow, startEndFlow, subflowFlow } from "../helpers/bundles.ts";
import { ledgerSamplesDir } from "../helpers/compat.ts";
import { drive, openHarness } from "../runtime/harness.ts";
import { withTempDir } from "./fixtures.ts";

/** Writes our own sample runs and ledgers into `dir` (a fresh directory) with the real runtime. */
export async function writeOwnSamples(dir: string): Promise<void> {
  const flows = [
    startEndFlow("own@1:done"),
    subflowFlow("own@1:parent", "own@1:done"),
    askUserFlow("own@1:ask"),
  ];
  const h = await openHarness({ flows, dir });
  try {
    for (const flow of flows) {
      await drive(h, (await h.runtime.start({ workflowId: flow.id, vars: {} })).run_id);
    }
  } finally {
    await h.close();
  }
}

export interface SampleCounts {
  runIds: string[];
  /** run id → number of ledger records. */
  ledgerLines: Map<string, number>;
}

/** Copies the run and ledger files of every source folder into `dir` and counts what was copied. */
export async function copySamples(folders: string[], dir: string): Promise<SampleCounts> {
  const counts: SampleCounts = { runIds: [], ledgerLines: new Map() };
  for (const folder of folders) {
    for await (const f of Deno.readDir(folder)) {
      if (!f.isFile || !/^(run_.+\.json|ledger_.+\.jsonl)$/.test(f.name)) continue;
      await Deno.copyFile(join(folder, f.name), join(dir, f.name));
      if (f.name.startsWith("run_")) counts.runIds.push(f.name.slice(4, -5));
      else {
        const text = await Deno.readTextFile(join(dir, f.name));
        counts.ledgerLines.set(f.name.slice(7, -6), text.split("\n").filter((l) => l.trim()).length);
      }
    }
  }
  return counts;
}

/** Hands a test the folders of one kind of sample data dir. */
export type SampleSource = (use: (folders: string[]) => Promise<void>) => Promise<void>;

/** A data dir our runtime writes for the test (removed afterwards). */
export const ownSamples: SampleSource = (use) =>
  withTempDir("gw-own-", async (own) => {
    await writeOwnSamples(own);
    await use([own]);
  });

/** The upstream ledger samples (compat group only): one folder per sample. */
export const upstreamSamples: SampleSource = async (use) => {
  const root = ledgerSamplesDir();
  const folders: string[] = [];
  for await (const e of Deno.readDir(root)) if (e.isDirectory) folders.push(join(root, e.name));
  await use(folders);
};
