/**
 * SQLite artifact store: metadata rows in the DB, bytes in the content-addressed blob files shared
 * with the file backend (`artifacts/blobs/<sha256>.bin`). A metadata row is written through the
 * group commit, so a run start's snapshot shares the transaction (and the one WAL fsync) of the run
 * insert; a blob file is written only when it is new, and is durable before any row names it.
 *
 * Blob collection (delete) is safe against other processes without a file lock: a row exists only
 * while its blob file does, because a blob file is removed only inside the write transaction that
 * found no row naming it, and a new row is inserted only inside a write transaction that either sees
 * another row naming the blob or finds the file on disk.
 *
 * `.meta` files of the data dir (written by the file layout, before this table existed) are copied
 * into the table once, on first use.
 */
import type { ArtifactMeta, ArtifactStore, ArtifactStoreOptions } from "../types.ts";
import { assertId } from "../validate.ts";
import { ArtifactPaths, newArtifactMeta, toMeta } from "../artifact_meta.ts";
import { readMetaFiles, withContent } from "../file/artifacts.ts";
import { BlobWriteBatch } from "../file/artifact_batch.ts";
import { type Row, type SqliteDb, task } from "./db.ts";
import { nowIso } from "../../util/time.ts";

/** Blob ids remembered as durable on disk (then storing the same bytes writes no file). */
const KNOWN_BLOBS = 4096;
const FILE_IMPORT = "meta_files";
const COLUMNS =
  "artifact_id, run_id, blob_id, content_type, size_bytes, created_at, filename, tags_json, metadata_json";

/** The blob a new row would name is gone (collected by a concurrent delete): write it again. */
class BlobGoneError extends Error {}

function rowToMeta(row: Row): ArtifactMeta {
  return toMeta(`artifacts row ${String(row.artifact_id)}`, {
    ...row,
    tags: JSON.parse(String(row.tags_json)),
    metadata: JSON.parse(String(row.metadata_json)),
  });
}

function fileExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

function removeFile(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/** Inserts (or replaces) artifact rows (caller holds a write transaction); `ignore` keeps existing rows. */
export function upsertArtifacts(sql: SqliteDb, metas: ArtifactMeta[], ignore = false): void {
  for (const m of metas) {
    sql.run(
      `INSERT INTO artifacts(${COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(artifact_id) DO ${
        ignore ? "NOTHING" : `UPDATE SET run_id=excluded.run_id, blob_id=excluded.blob_id,
         content_type=excluded.content_type, size_bytes=excluded.size_bytes, created_at=excluded.created_at,
         filename=excluded.filename, tags_json=excluded.tags_json, metadata_json=excluded.metadata_json`
      }`,
      m.artifact_id,
      m.run_id,
      m.blob_id,
      m.content_type,
      m.size_bytes,
      m.created_at,
      m.filename,
      JSON.stringify(m.tags),
      JSON.stringify(m.metadata),
    );
  }
}

/**
 * Copies the `.meta` files of `dataDir` into the table (rows already there win) and records that it
 * was done; returns how many files were read. Caller holds a write transaction.
 */
export function importMetaFiles(sql: SqliteDb, metas: ArtifactMeta[]): number {
  upsertArtifacts(sql, metas, true);
  sql.run(
    "INSERT INTO artifact_imports(source, imported_at) VALUES (?, ?) ON CONFLICT(source) DO NOTHING",
    FILE_IMPORT,
    nowIso(),
  );
  return metas.length;
}

export class SqliteArtifactStore implements ArtifactStore {
  readonly #paths: ArtifactPaths;
  readonly #blobWrites = new BlobWriteBatch();
  /** Insertion-ordered, oldest evicted first. */
  readonly #knownBlobs = new Set<string>();
  #ready: Promise<void> | null = null;

  constructor(private readonly sql: SqliteDb, dataDir: string) {
    this.#paths = new ArtifactPaths(dataDir);
  }

  /** Once per process: the blob dir exists and the legacy `.meta` files are in the table. */
  #prepare(): Promise<void> {
    return this.#ready ??= (async () => {
      await Deno.mkdir(this.#paths.blobs, { recursive: true });
      if (this.sql.get("SELECT 1 AS x FROM artifact_imports WHERE source = ?", FILE_IMPORT)) return;
      const metas = await readMetaFiles(this.#paths);
      this.sql.write(() => importMetaFiles(this.sql, metas));
    })().catch((err) => {
      this.#ready = null;
      throw err;
    });
  }

  #remember(blobId: string): void {
    this.#knownBlobs.delete(blobId);
    this.#knownBlobs.add(blobId);
    if (this.#knownBlobs.size > KNOWN_BLOBS) this.#knownBlobs.delete(this.#knownBlobs.values().next().value!);
  }

  async store(content: Uint8Array, options: ArtifactStoreOptions = {}): Promise<ArtifactMeta> {
    const meta = newArtifactMeta(content, options);
    await this.#prepare();
    const blobPath = this.#paths.blob(meta.blob_id);
    for (let attempt = 0;; attempt++) {
      // A metadata row never names a blob that is not durable yet.
      if (!this.#knownBlobs.has(meta.blob_id)) await this.#blobWrites.write(blobPath, content);
      try {
        await this.sql.writeGrouped(() => {
          const named = this.sql.get("SELECT 1 AS x FROM artifacts WHERE blob_id = ? LIMIT 1", meta.blob_id);
          if (!named && !fileExists(blobPath)) throw new BlobGoneError(blobPath);
          upsertArtifacts(this.sql, [meta]);
        });
        this.#remember(meta.blob_id);
        return meta;
      } catch (err) {
        this.#knownBlobs.delete(meta.blob_id);
        if (!(err instanceof BlobGoneError) || attempt > 0) throw err;
      }
    }
  }

  async getMetadata(artifactId: string): Promise<ArtifactMeta | null> {
    await this.#prepare();
    const row = this.sql.get(`SELECT ${COLUMNS} FROM artifacts WHERE artifact_id = ?`, artifactId);
    return row ? rowToMeta(row) : null;
  }

  async load(artifactId: string): Promise<{ meta: ArtifactMeta; content: Uint8Array } | null> {
    return await withContent(this.#paths, await this.getMetadata(artifactId));
  }

  async listByRun(runId: string): Promise<ArtifactMeta[]> {
    assertId("run_id", runId);
    await this.#prepare();
    return this.sql.all(
      `SELECT ${COLUMNS} FROM artifacts WHERE run_id = ? ORDER BY created_at DESC, artifact_id`,
      runId,
    ).map(rowToMeta);
  }

  /** Every artifact's metadata (for `migrate --from sqlite`). */
  async all(): Promise<ArtifactMeta[]> {
    await this.#prepare();
    return this.sql.all(`SELECT ${COLUMNS} FROM artifacts ORDER BY artifact_id`).map(rowToMeta);
  }

  async delete(artifactId: string): Promise<boolean> {
    await this.#prepare();
    return await task(() =>
      this.sql.write(() => {
        const row = this.sql.get("SELECT blob_id FROM artifacts WHERE artifact_id = ?", artifactId);
        if (!row) return false;
        this.sql.run("DELETE FROM artifacts WHERE artifact_id = ?", artifactId);
        // The file layout's copies go too, or a later import (or the file backend) would revive it.
        for (const path of this.#paths.metaFiles(artifactId)) removeFile(path);
        const blobId = String(row.blob_id);
        removeFile(this.#paths.legacyContent(artifactId));
        if (blobId && !this.sql.get("SELECT 1 AS x FROM artifacts WHERE blob_id = ? LIMIT 1", blobId)) {
          this.#knownBlobs.delete(blobId);
          removeFile(this.#paths.blob(blobId));
        }
        return true;
      })
    );
  }
}
