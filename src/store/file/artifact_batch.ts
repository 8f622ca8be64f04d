/**
 * Group commit for artifact files: `store()` calls that arrive while a batch is being written (the
 * workflow snapshot of every run start, for one) are written together, their temp files fsynced in
 * parallel and each directory fsynced once per batch instead of once per file. Blobs are moved into
 * place and made durable before any metadata that names them. Each caller resolves only once its
 * files are durable.
 */
import { dirname, join } from "node:path";
import { stageFile, syncDir } from "../../util/atomic.ts";
import { BatchQueue, resultsOf, stageAndMove } from "./write_batch.ts";

interface Pending {
  blobPath: string;
  content: Uint8Array;
  metaPath: string;
  meta: string;
  /** The artifact's per-run index entry (dir, file name), for a run-scoped artifact. */
  index: { dir: string; name: string } | null;
}

/**
 * Adds the empty file `dir/name` (making `dir` when missing); records in `dirs` each directory that
 * received an entry and must be fsynced. Synchronous: two small metadata calls cost less CPU than two
 * thread-pool round trips (the fsyncs, which wait for the disk, stay off the event loop).
 */
export function addIndexEntry(dir: string, name: string, dirs: Set<string>): void {
  try {
    Deno.mkdirSync(dir);
    dirs.add(dirname(dir));
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
  }
  Deno.writeFileSync(join(dir, name), new Uint8Array());
  dirs.add(dir);
}

export async function writeBlobs(
  blobs: Map<string, Uint8Array>,
  errors: Map<string, unknown>,
): Promise<void> {
  const moved = await stageAndMove(
    [...blobs].map(([path, content]) => ({
      path,
      stage: async () => {
        const existing = await Deno.stat(path).catch(() => null);
        return existing?.size === content.length ? null : await stageFile(path, content);
      },
    })),
    errors,
  );
  await Promise.all([...moved].map(syncDir));
}

/** Blob writes alone, batched (for stores that keep the metadata elsewhere). */
export class BlobWriteBatch {
  readonly #queue = new BatchQueue<{ path: string; content: Uint8Array }>(async (items) => {
    const errors = new Map<string, unknown>();
    await writeBlobs(new Map(items.map((item) => [item.path, item.content])), errors);
    return resultsOf(
      items,
      new Map(items.filter((i) => errors.has(i.path)).map((i) => [i, errors.get(i.path)])),
    );
  });

  /** Resolves once the blob at `path` is durable. */
  write(path: string, content: Uint8Array): Promise<void> {
    return this.#queue.add({ path, content });
  }
}

export class ArtifactWriteBatch {
  readonly #queue: BatchQueue<Pending>;

  /** `locked` runs its argument holding the artifacts lock. */
  constructor(locked: (fn: () => Promise<void>) => Promise<void>) {
    this.#queue = new BatchQueue(async (batch) => {
      const failed = new Map<Pending, unknown>();
      try {
        await locked(() => this.#writeBatch(batch, failed));
      } catch (err) {
        for (const item of batch) if (!failed.has(item)) failed.set(item, err);
      }
      return resultsOf(batch, failed);
    });
  }

  /** Writes the blob (unless present), then the metadata file and its index entry, in the next batch. */
  write(item: Pending): Promise<void> {
    return this.#queue.add(item);
  }

  /** Records per-item failures in `failed`; throws only for what fails the whole batch. */
  async #writeBatch(batch: Pending[], failed: Map<Pending, unknown>): Promise<void> {
    const blobErrors = new Map<string, unknown>();
    // A metadata file never names a blob that is not durable yet.
    await writeBlobs(new Map(batch.map((item) => [item.blobPath, item.content])), blobErrors);
    const live = batch.filter((item) => {
      const err = blobErrors.get(item.blobPath);
      if (err !== undefined) failed.set(item, err);
      return err === undefined;
    });
    const metaErrors = new Map<string, unknown>();
    // The index entries are made beside the metadata files and fsynced in the same wave.
    const indexDirs = new Set<string>();
    for (const item of live) {
      try {
        if (item.index) addIndexEntry(item.index.dir, item.index.name, indexDirs);
      } catch (err) {
        failed.set(item, err);
      }
    }
    const movedMetas = await stageAndMove(
      live.filter((item) => !failed.has(item)).map((item) => ({
        path: item.metaPath,
        stage: () => stageFile(item.metaPath, item.meta),
      })),
      metaErrors,
    );
    for (const item of live) {
      if (metaErrors.has(item.metaPath)) failed.set(item, metaErrors.get(item.metaPath));
    }
    await Promise.all([...movedMetas, ...indexDirs].map(syncDir));
  }
}
