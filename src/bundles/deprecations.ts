/**
 * Workflow deprecations persisted in `<data>/workflow_deprecations.json`:
 * `{"version":1,"bundles":{bundle_id:{flow_id or "*":{deprecated_at, reason?}}}}`.
 * A missing or corrupt file reads as "nothing deprecated"; writes are atomic.
 */
import { dirname, join } from "node:path";
import { isoUtc } from "../util/time.ts";
import { logger } from "../util/log.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import type { DeprecationRecord, Deprecations } from "./types.ts";

export const DEPRECATIONS_FILE = "workflow_deprecations.json";
const log = logger("bundles");

type Table = Record<string, Record<string, DeprecationRecord>>;

function parseTable(text: string): Table {
  const doc = JSON.parse(text) as { bundles?: unknown };
  const table: Table = {};
  if (typeof doc?.bundles !== "object" || doc.bundles === null) return table;
  for (const [bundleId, flows] of Object.entries(doc.bundles as Record<string, unknown>)) {
    if (typeof flows !== "object" || flows === null) continue;
    for (const [flowId, rec] of Object.entries(flows as Record<string, unknown>)) {
      const r = rec as Partial<DeprecationRecord> | null;
      if (typeof r?.deprecated_at !== "string") continue;
      (table[bundleId] ??= {})[flowId] = typeof r.reason === "string"
        ? { deprecated_at: r.deprecated_at, reason: r.reason }
        : { deprecated_at: r.deprecated_at };
    }
  }
  return table;
}

class FileDeprecations implements Deprecations {
  #table: Table = {};
  #writes: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {}

  async reload(): Promise<void> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.path);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      this.#table = {};
      return;
    }
    try {
      this.#table = parseTable(text);
    } catch (err) {
      log.warn("ignoring corrupt deprecations file", { path: this.path, error: String(err) });
      this.#table = {};
    }
  }

  isDeprecated(bundleId: string, flowId: string): DeprecationRecord | null {
    const flows = this.#table[bundleId];
    return flows?.[flowId] ?? flows?.["*"] ?? null;
  }

  deprecate(bundleId: string, flowId: string, reason?: string): Promise<DeprecationRecord> {
    const record: DeprecationRecord = { deprecated_at: isoUtc() };
    const why = reason?.trim();
    if (why) record.reason = why;
    return this.#mutate((table) => {
      (table[bundleId] ??= {})[flowId] = record;
      return record;
    });
  }

  undeprecate(bundleId: string, flowId: string): Promise<boolean> {
    return this.#mutate((table) => {
      const flows = table[bundleId];
      if (!flows || !(flowId in flows)) return false;
      delete flows[flowId];
      if (Object.keys(flows).length === 0) delete table[bundleId];
      return true;
    });
  }

  /**
   * Serialises read-modify-write cycles: re-read (another process may have written), apply to a
   * copy, persist, and only then make the copy current.
   */
  #mutate<T>(apply: (table: Table) => T): Promise<T> {
    const run = this.#writes.then(async () => {
      await this.reload();
      const next = structuredClone(this.#table);
      const result = apply(next);
      await Deno.mkdir(dirname(this.path), { recursive: true });
      await writeFileAtomic(this.path, JSON.stringify({ version: 1, bundles: next }, null, 2) + "\n");
      this.#table = next;
      return result;
    });
    this.#writes = run.catch(() => {});
    return run;
  }
}

/** Opens (and reads) the deprecations file of a data dir. */
export async function openDeprecations(dataDir: string): Promise<Deprecations> {
  const store = new FileDeprecations(join(dataDir, DEPRECATIONS_FILE));
  await store.reload();
  return store;
}
