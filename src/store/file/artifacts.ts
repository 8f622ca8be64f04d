/**
 * Artifact store on files (upstream layout): content-addressed blobs `artifacts/blobs/<sha256>.bin`
 * (deduplicated across runs) and metadata `artifacts/refs/<id>.meta`. The legacy layout
 * `artifacts/<id>.meta` + `artifacts/<id>.bin` is still read. Writes and deletes hold
 * `artifacts/.artifacts.lock` so a blob is never collected while another process references it.
 * (The SQL backends keep the metadata in their DB instead: ../sqlite/artifacts.ts.)
 */
import { join } from "node:path";
import type { ArtifactMeta, ArtifactStore, ArtifactStoreOptions } from "../types.ts";
import { StoreCorruptError } from "../types.ts";
import { assertId } from "../validate.ts";
import { ARTIFACT_ID, ArtifactPaths, newArtifactMeta, newestFirst, parseMetaFile } from "../artifact_meta.ts";
import { isNotFound, readIfExists, removeIfExists } from "./fsutil.ts";
import { ArtifactWriteBatch } from "./artifact_batch.ts";
import { FileLock } from "./lock.ts";
import { writeFileAtomic } from "../../util/atomic.ts";

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
  for (const meta of metas) {
    if (await readMetaFile(paths, meta.artifact_id)) continue;
    await writeFileAtomic(paths.metaFiles(meta.artifact_id)[0], JSON.stringify(meta, null, 2));
  }
}

/** The bytes of `meta` (its blob, else the legacy `<id>.bin`); a missing file is corruption. */
export async function readContent(paths: ArtifactPaths, meta: ArtifactMeta): Promise<Uint8Array> {
  const candidates = paths.contentFiles(meta);
  for (const path of candidates) {
    const content = await readIfExists(path);
    if (content !== null) return content;
  }
  throw new StoreCorruptError(candidates[0], `content of artifact ${meta.artifact_id} is missing`);
}

export class FileArtifactStore implements ArtifactStore {
  readonly #paths: ArtifactPaths;
  #lock: FileLock | null = null;
  /** Concurrent store() calls share one lock hold and one directory fsync. */
  readonly #batch = new ArtifactWriteBatch((fn) => this.#locked(fn));

  constructor(dataDir: string) {
    this.#paths = new ArtifactPaths(dataDir);
  }

  async #locked<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.#lock) {
      await Deno.mkdir(this.#paths.refs, { recursive: true });
      await Deno.mkdir(this.#paths.blobs, { recursive: true });
      this.#lock ??= new FileLock(join(this.#paths.root, ".artifacts.lock"));
    }
    return await this.#lock.run(fn);
  }

  async store(content: Uint8Array, options: ArtifactStoreOptions = {}): Promise<ArtifactMeta> {
    const meta = newArtifactMeta(content, options);
    await this.#batch.write(
      this.#paths.blob(meta.blob_id),
      content,
      this.#paths.metaFiles(meta.artifact_id)[0],
      JSON.stringify(meta, null, 2),
    );
    return meta;
  }

  getMetadata(artifactId: string): Promise<ArtifactMeta | null> {
    return readMetaFile(this.#paths, artifactId);
  }

  async load(artifactId: string): Promise<{ meta: ArtifactMeta; content: Uint8Array } | null> {
    const meta = await this.getMetadata(artifactId);
    return meta && { meta, content: await readContent(this.#paths, meta) };
  }

  async listByRun(runId: string): Promise<ArtifactMeta[]> {
    assertId("run_id", runId);
    return (await readMetaFiles(this.#paths)).filter((m) => m.run_id === runId).sort(newestFirst);
  }

  async delete(artifactId: string): Promise<boolean> {
    const meta = await this.getMetadata(artifactId);
    if (!meta) return false;
    return await this.#locked(async () => {
      const [ref, legacy] = this.#paths.metaFiles(artifactId);
      const removed = (await removeIfExists(ref)) || (await removeIfExists(legacy));
      await removeIfExists(this.#paths.legacyContent(artifactId));
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
