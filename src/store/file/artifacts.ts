/**
 * Artifact store on files for every backend (upstream layout): content-addressed blobs
 * `artifacts/blobs/<sha256>.bin` (deduplicated across runs) and metadata `artifacts/refs/<id>.meta`.
 * The legacy layout `artifacts/<id>.meta` + `artifacts/<id>.bin` is still read. Writes and deletes
 * hold `artifacts/.artifacts.lock` so a blob is never collected while another process references it.
 */
import { join } from "node:path";
import type { ArtifactMeta, ArtifactStore, ArtifactStoreOptions } from "../types.ts";
import { StoreCorruptError } from "../types.ts";
import { StoreValidationError } from "../errors.ts";
import { assertId, isPlainObject } from "../validate.ts";
import { nowIso } from "../../util/time.ts";
import { isNotFound, readIfExists, removeIfExists } from "./fsutil.ts";
import { ArtifactWriteBatch } from "./artifact_batch.ts";
import { FileLock } from "./lock.ts";
import type { JsonObject } from "../../runtime/types.ts";
import { sha256Hex } from "../../util/hash.ts";

const ARTIFACT_ID = /^[A-Za-z0-9_-]+$/;
const encoder = new TextEncoder();

/** sha256 of `run_id` + NUL + bytes (upstream run-scoped artifact id). */
function runScopedHash(runId: string, content: Uint8Array): string {
  const prefix = encoder.encode(runId);
  const bytes = new Uint8Array(prefix.length + 1 + content.length);
  bytes.set(prefix);
  bytes.set(content, prefix.length + 1);
  return sha256Hex(bytes);
}

function assertArtifactId(id: string): void {
  if (typeof id !== "string" || !ARTIFACT_ID.test(id) || id.length > 200) {
    throw new StoreValidationError(
      `artifact_id ${JSON.stringify(String(id).slice(0, 60))} must match [A-Za-z0-9_-]+`,
    );
  }
}

function toMeta(path: string, value: unknown): ArtifactMeta {
  if (!isPlainObject(value)) {
    throw new StoreCorruptError(path, "not a JSON object");
  }
  const m = value;
  if (typeof m.artifact_id !== "string") throw new StoreCorruptError(path, "missing artifact_id");
  const obj = (v: unknown) => (isPlainObject(v) ? v : {});
  return {
    artifact_id: m.artifact_id,
    blob_id: typeof m.blob_id === "string" ? m.blob_id : "",
    content_type: typeof m.content_type === "string" ? m.content_type : "application/octet-stream",
    size_bytes: typeof m.size_bytes === "number" ? m.size_bytes : 0,
    created_at: typeof m.created_at === "string" ? m.created_at : "",
    run_id: typeof m.run_id === "string" ? m.run_id : null,
    tags: obj(m.tags) as Record<string, string>,
    metadata: obj(m.metadata) as JsonObject,
    filename: typeof m.filename === "string" ? m.filename : null,
  };
}

export class FileArtifactStore implements ArtifactStore {
  readonly #root: string;
  readonly #blobs: string;
  readonly #refs: string;
  #lock: FileLock | null = null;
  /** Concurrent store() calls share one lock hold and one directory fsync. */
  readonly #batch = new ArtifactWriteBatch((fn) => this.#locked(fn));

  constructor(dataDir: string) {
    this.#root = join(dataDir, "artifacts");
    this.#blobs = join(this.#root, "blobs");
    this.#refs = join(this.#root, "refs");
  }

  async #locked<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.#lock) {
      await Deno.mkdir(this.#refs, { recursive: true });
      await Deno.mkdir(this.#blobs, { recursive: true });
      this.#lock ??= new FileLock(join(this.#root, ".artifacts.lock"));
    }
    return await this.#lock.run(fn);
  }

  async store(content: Uint8Array, options: ArtifactStoreOptions = {}): Promise<ArtifactMeta> {
    if (!(content instanceof Uint8Array)) throw new StoreValidationError("artifact content must be bytes");
    const runId = options.run_id ?? null;
    if (runId !== null) assertId("run_id", runId);
    const blobId = sha256Hex(content);
    const artifactId = options.artifact_id ??
      (runId === null ? blobId : runScopedHash(runId, content)).slice(0, 32);
    assertArtifactId(artifactId);
    const meta: ArtifactMeta = {
      artifact_id: artifactId,
      blob_id: blobId,
      content_type: options.content_type ?? "application/octet-stream",
      size_bytes: content.length,
      created_at: nowIso(),
      run_id: runId,
      tags: options.tags ?? {},
      metadata: options.metadata ?? {},
      filename: options.filename ?? null,
    };
    await this.#batch.write(
      join(this.#blobs, `${blobId}.bin`),
      content,
      join(this.#refs, `${artifactId}.meta`),
      JSON.stringify(meta, null, 2),
    );
    return meta;
  }

  async getMetadata(artifactId: string): Promise<ArtifactMeta | null> {
    if (!ARTIFACT_ID.test(artifactId)) return null;
    for (const path of [join(this.#refs, `${artifactId}.meta`), join(this.#root, `${artifactId}.meta`)]) {
      const bytes = await readIfExists(path);
      if (bytes !== null) return this.#parse(path, bytes);
    }
    return null;
  }

  #parse(path: string, bytes: Uint8Array): ArtifactMeta {
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder().decode(bytes));
    } catch (err) {
      throw new StoreCorruptError(path, `invalid JSON (${err instanceof Error ? err.message : err})`);
    }
    return toMeta(path, value);
  }

  async load(artifactId: string): Promise<{ meta: ArtifactMeta; content: Uint8Array } | null> {
    const meta = await this.getMetadata(artifactId);
    if (!meta) return null;
    const candidates = meta.blob_id ? [join(this.#blobs, `${meta.blob_id}.bin`)] : [];
    candidates.push(join(this.#root, `${artifactId}.bin`));
    for (const path of candidates) {
      const content = await readIfExists(path);
      if (content !== null) return { meta, content };
    }
    throw new StoreCorruptError(candidates[0], `content of artifact ${artifactId} is missing`);
  }

  async listByRun(runId: string): Promise<ArtifactMeta[]> {
    assertId("run_id", runId);
    const metas = (await this.#all()).filter((m) => m.run_id === runId);
    return metas.sort((a, b) =>
      b.created_at.localeCompare(a.created_at) || a.artifact_id.localeCompare(b.artifact_id)
    );
  }

  /** Every readable metadata file (refs first; a legacy file with the same id is shadowed). */
  async #all(): Promise<ArtifactMeta[]> {
    const byId = new Map<string, ArtifactMeta>();
    for (const dir of [this.#refs, this.#root]) {
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
          const meta = this.#parse(path, bytes);
          if (!byId.has(meta.artifact_id)) byId.set(meta.artifact_id, meta);
        } catch {
          // an unreadable metadata file is skipped in listings; getMetadata reports it
        }
      }
    }
    return [...byId.values()];
  }

  async delete(artifactId: string): Promise<boolean> {
    if (!ARTIFACT_ID.test(artifactId)) return false;
    const meta = await this.getMetadata(artifactId);
    if (!meta) return false;
    return await this.#locked(async () => {
      const removed = (await removeIfExists(join(this.#refs, `${artifactId}.meta`))) ||
        (await removeIfExists(join(this.#root, `${artifactId}.meta`)));
      await removeIfExists(join(this.#root, `${artifactId}.bin`));
      const stillUsed = meta.blob_id !== "" && (await this.#all()).some((m) => m.blob_id === meta.blob_id);
      if (meta.blob_id && !stillUsed) await removeIfExists(join(this.#blobs, `${meta.blob_id}.bin`));
      return removed;
    });
  }

  async close(): Promise<void> {
    await this.#lock?.close();
  }
}
