/**
 * The opt-in upstream-compatibility group. Its tests read real upstream bundles and ledger samples from
 * the directory named by GATEWAY_COMPAT_DIR (a copy of the reference folder, holding `upstream-bundles/`
 * and `reference/ledger-samples/`); `.ci/run` names `../shared` when it exists. Without it they register
 * as ignored with the reason in their name, so a bare clone never reports them as passed. Core behaviour
 * is covered elsewhere with fixtures our own code builds.
 */
import { join, resolve } from "node:path";

const named = Deno.env.get("GATEWAY_COMPAT_DIR")?.trim() ?? "";

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** The compat directory, resolved against the working directory, or null when none is named. */
export const COMPAT_DIR: string | null = named && isDirectory(resolve(named)) ? resolve(named) : null;

const IGNORED_REASON = named
  ? `ignored: GATEWAY_COMPAT_DIR=${named} is not a directory`
  : "ignored: set GATEWAY_COMPAT_DIR to the upstream reference dir to run";

function compatDir(): string {
  if (!COMPAT_DIR) throw new Error("Cannot read upstream fixtures: GATEWAY_COMPAT_DIR names no directory");
  return COMPAT_DIR;
}

/** Real bundles made by the upstream authoring tool. */
export const upstreamBundlesDir = (): string => join(compatDir(), "upstream-bundles");
/** Upstream data-dir samples (run_*.json + ledger_*.jsonl per folder). */
export const ledgerSamplesDir = (): string => join(compatDir(), "reference", "ledger-samples");

/** Registers a compat test: runs when GATEWAY_COMPAT_DIR names a directory, otherwise shows as ignored. */
export function compatTest(name: string, fn: () => Promise<void> | void): void {
  if (COMPAT_DIR) Deno.test(`compat: ${name}`, fn);
  else Deno.test({ name: `compat: ${name} (${IGNORED_REASON})`, ignore: true, fn });
}
