/**
 * Artifact store on files (upstream layout): content-addressed blobs `artifacts/blobs/<sha256>.bin`
 * (deduplicated across runs) and metadata `artifacts/refs/<id>.meta`. The legacy layout
 * `artifacts/<id>.meta` + `artifacts/<id>.bin` is still read. Writes and deletes hold
 * `artifacts/.artifacts.lock` so a blob is never collected while another process references it.
 * (SQLite keeps the metadata in its DB instead: ../sqlite/artifacts.ts.)
 *
 * Listing a run's artifacts reads only that run's: `artifacts/by_run/<run_id>/<artifact_id>` (empty
 * files, made and fsynced with the metadata file). A data dir written before the index existed (or
 * by upstream) is indexed once, on first use; `by_run/.complete` records that it was. The metadata
 * file stays the truth: an index entry whose metadata is missing or names another run is ignored.
 */
import { join } from "node:path";
import type { ArtifactMeta, ArtifactStore, ArtifactStoreOptions } from "../types.ts";
import { StoreCorruptError } from "../types.ts";
import { assertId, idProblem } from "../validate.ts";
import { ARTIFACT_ID, ArtifactPaths, newArtifactMeta, newestFirst, parseMetaFile } from "../artifact_meta.ts";
import { isNotFound, readIfExists, removeIfExists } from "./fsutil.ts";
import { addIndexEntry, ArtifactWriteBatch } from "./artifact_batch.ts";
import { FileLock } from "./lock.ts";
import { syncDir, writeFileAtomic } from "../../util/atomic.ts";

/**
 * Every readable metadata file under `paths` (refs first; a legacy file with the same id is
 * shadowed). An unreadable file is skipped (getMetadata reports it).
 */
export async function readMetaFiles(paths: ArtifactPaths): Promise<ArtifactMeta[]> {
  const byId = new Map<string, ArtifactMeta>();
  for (const dir of [paths.refs, paths.root]) {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch (err) {
      if (isNotFound(err)) continue;
      throw err;
    }
    for (const e of entries) {
      if (!e.isFile || !e.name.endsWith(".meta")) continue;
      const path = join(dir, e.name);
      const bytes = await readIfExists(path);
      if (bytes === null) continue;
      try {
        const meta = parseMetaFile(path, bytes);
        if (!byId.has(meta.artifact_id)) byId.set(meta.artifact_id, meta);
      } catch {
        // skipped in listings
      }
    }
  }
  return [...byId.values()];
}

/** The metadata of `artifactId` from its file (upstream layout first), or null. */
export async function readMetaFile(paths: ArtifactPaths, artifactId: string): Promise<ArtifactMeta | null> {
  if (!ARTIFACT_ID.test(artifactId)) return null;
  for (const path of paths.metaFiles(artifactId)) {
    const bytes = await readIfExists(path);
    if (bytes !== null) return parseMetaFile(path, bytes);
  }
  return null;
}

/**
 * Writes metadata files in the upstream layout for `metas` that have none yet (a DB's artifacts
 * handed to a backend that reads them from files).
 */
export async function exportMetaFiles(paths: ArtifactPaths, metas: ArtifactMeta[]): Promise<void> {
  await Deno.mkdir(paths.refs, { recursive: true });
  const written: ArtifactMeta[] = [];
  for (const meta of metas) {
    if (await readMetaFile(paths, meta.artifact_id)) continue;
    await writeFileAtomic(paths.metaFiles(meta.artifact_id)[0], JSON.stringify(meta, null, 2));
    written.push(meta);
  }
  await indexMetas(paths, written);
}

/** True when `runId` can name an index dir (what `listByRun` accepts). */
const indexable = (runId: string | null): runId is string => !!runId && idProblem(runId) === null;

/** Adds the per-run index entries of `metas` and makes them durable (fsyncs 64 dirs at a time). */
async function indexMetas(paths: ArtifactPaths, metas: ArtifactMeta[]): Promise<void> {
  await Deno.mkdir(paths.byRun, { recursive: true });
  const dirs = new Set<string>();
  for (const meta of metas) {
    if (indexable(meta.run_id)) addIndexEntry(paths.runIndex(meta.run_id), meta.artifact_id, dirs);
  }
  const pending = [...dirs];
  while (pending.length > 0) await Promise.all(pending.splice(0, 64).map(syncDir));
}

/** `meta` with its bytes (its blob, else the legacy `<id>.bin`); a missing file is corruption. */
export async function withContent(
  paths: ArtifactPaths,
  meta: ArtifactMeta | null,
): Promise<{ meta: ArtifactMeta; content: Uint8Array } | null> {
  if (!meta) return null;
  const candidates = paths.contentFiles(meta);
  for (const path of candidates) {
    const content = await readIfExists(path);
    if (content !== null) return { meta, content };
  }
  throw new StoreCorruptError(candidates[0], `content of artifact ${meta.artifact_id} is missing`);
}

const INDEX_COMPLETE = ".complete";

export class FileArtifactStore implements ArtifactStore {
  readonly #paths: ArtifactPaths;
  #lock: FileLock | null = null;
  #indexed: Promise<void> | null = null;
  /** Concurrent store() calls share one lock hold and one directory fsync. */
  readonly #batch = new ArtifactWriteBatch((fn) => this.#locked(fn));

  constructor(dataDir: string) {
    this.#paths = new ArtifactPaths(dataDir);
  }

  async #locked<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.#lock) {
      await Deno.mkdir(this.#paths.refs, { recursive: true });
      await Deno.mkdir(this.#paths.blobs, { recursive: true });
      await Deno.mkdir(this.#paths.byRun, { recursive: true });
      this.#lock ??= new FileLock(join(this.#paths.root, ".artifacts.lock"));
    }
    return await this.#lock.run(fn);
  }

  /** Once per process: every metadata file has its index entry (built under the lock if missing). */
  #index(): Promise<void> {
    return this.#indexed ??= this.#locked(async () => {
      const marker = join(this.#paths.byRun, INDEX_COMPLETE);
      if (await readIfExists(marker) !== null) return;
      await indexMetas(this.#paths, await readMetaFiles(this.#paths));
      await writeFileAtomic(marker, "1\n");
      await syncDir(this.#paths.root);
    }).catch((err) => {
      this.#indexed = null;
      throw err;
    });
  }

  async store(content: Uint8Array, options: ArtifactStoreOptions = {}): Promise<ArtifactMeta> {
    const meta = newArtifactMeta(content, options);
    await this.#index();
    await this.#batch.write({
      blobPath: this.#paths.blob(meta.blob_id),
      content,
      metaPath: this.#paths.metaFiles(meta.artifact_id)[0],
      meta: JSON.stringify(meta, null, 2),
      index: indexable(meta.run_id)
        ? { dir: this.#paths.runIndex(meta.run_id), name: meta.artifact_id }
        : null,
    });
    return meta;
  }

  getMetadata(artifactId: string): Promise<ArtifactMeta | null> {
    return readMetaFile(this.#paths, artifactId);
  }

  async load(artifactId: string): Promise<{ meta: ArtifactMeta; content: Uint8Array } | null> {
    return await withContent(this.#paths, await this.getMetadata(artifactId));
  }

  async listByRun(runId: string): Promise<ArtifactMeta[]> {
    assertId("run_id", runId);
    await this.#index();
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(this.#paths.runIndex(runId)));
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
    const metas = await Promise.all(
      // an unreadable metadata file is skipped in listings; getMetadata reports it
      entries.filter((e) => e.isFile).map((e) => readMetaFile(this.#paths, e.name).catch(() => null)),
    );
    return metas.filter((m): m is ArtifactMeta => m?.run_id === runId).sort(newestFirst);
  }

  async delete(artifactId: string): Promise<boolean> {
    const meta = await this.getMetadata(artifactId);
    if (!meta) return false;
    return await this.#locked(async () => {
      const [ref, legacy] = this.#paths.metaFiles(artifactId);
      const removed = (await removeIfExists(ref)) || (await removeIfExists(legacy));
      await removeIfExists(this.#paths.legacyContent(artifactId));
      if (indexable(meta.run_id)) await removeIfExists(join(this.#paths.runIndex(meta.run_id), artifactId));
      const stillUsed = meta.blob_id !== "" &&
        (await readMetaFiles(this.#paths)).some((m) => m.blob_id === meta.blob_id);
      if (meta.blob_id && !stillUsed) await removeIfExists(this.#paths.blob(meta.blob_id));
      return removed;
    });
  }

  async close(): Promise<void> {
    await this.#lock?.close();
  }
}
