/**
 * What every artifact store shares: ids (content-addressed blob id, upstream run-scoped artifact id),
 * the metadata record of a new artifact, reading a metadata object back, and the on-disk layout of
 * the file side (`artifacts/blobs/<sha256>.bin`, `artifacts/refs/<id>.meta`, legacy `artifacts/<id>.*`).
 */
import { join } from "node:path";
import type { ArtifactMeta, ArtifactStoreOptions } from "./types.ts";
import { StoreCorruptError } from "./types.ts";
import { StoreValidationError } from "./errors.ts";
import { assertId, isPlainObject } from "./validate.ts";
import { nowIso } from "../util/time.ts";
import { sha256Hex } from "../util/hash.ts";
import type { JsonObject } from "../runtime/types.ts";

export const ARTIFACT_ID = /^[A-Za-z0-9_-]+$/;
const encoder = new TextEncoder();

/** Blob ids of byte arrays seen before (a run start hands in the same snapshot bytes every time). */
const blobIds = new WeakMap<Uint8Array, string>();

function blobIdOf(content: Uint8Array): string {
  let id = blobIds.get(content);
  if (id === undefined) blobIds.set(content, id = sha256Hex(content));
  return id;
}

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

/** The metadata of `content` stored with `options` (validated; throws StoreValidationError). */
export function newArtifactMeta(content: Uint8Array, options: ArtifactStoreOptions): ArtifactMeta {
  if (!(content instanceof Uint8Array)) throw new StoreValidationError("artifact content must be bytes");
  const runId = options.run_id ?? null;
  if (runId !== null) assertId("run_id", runId);
  const blobId = blobIdOf(content);
  const artifactId = options.artifact_id ??
    (runId === null ? blobId : runScopedHash(runId, content)).slice(0, 32);
  assertArtifactId(artifactId);
  return {
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
}

/** A metadata object read back (from a `.meta` file or a DB row), defaults filled in. */
export function toMeta(source: string, value: unknown): ArtifactMeta {
  if (!isPlainObject(value)) {
    throw new StoreCorruptError(source, "not a JSON object");
  }
  const m = value;
  if (typeof m.artifact_id !== "string") throw new StoreCorruptError(source, "missing artifact_id");
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

/** Parses the bytes of a `.meta` file. */
export function parseMetaFile(path: string, bytes: Uint8Array): ArtifactMeta {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new StoreCorruptError(path, `invalid JSON (${err instanceof Error ? err.message : err})`);
  }
  return toMeta(path, value);
}

/** Newest first, then by id (the order of `listByRun`). */
export const newestFirst = (a: ArtifactMeta, b: ArtifactMeta): number =>
  b.created_at.localeCompare(a.created_at) || a.artifact_id.localeCompare(b.artifact_id);

/** Paths of the file side of the artifact stores under `<dataDir>/artifacts`. */
export class ArtifactPaths {
  readonly root: string;
  readonly blobs: string;
  readonly refs: string;
  /** The file backend's per-run index: `by_run/<run_id>/<artifact_id>` (empty files). */
  readonly byRun: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, "artifacts");
    this.blobs = join(this.root, "blobs");
    this.refs = join(this.root, "refs");
    this.byRun = join(this.root, "by_run");
  }

  runIndex(runId: string): string {
    return join(this.byRun, runId);
  }

  blob(blobId: string): string {
    return join(this.blobs, `${blobId}.bin`);
  }

  /** Where a metadata file for `artifactId` may be: the upstream layout first, then the legacy one. */
  metaFiles(artifactId: string): string[] {
    return [join(this.refs, `${artifactId}.meta`), join(this.root, `${artifactId}.meta`)];
  }

  /** The bytes of an artifact in the legacy layout. */
  legacyContent(artifactId: string): string {
    return join(this.root, `${artifactId}.bin`);
  }

  /** Where the bytes of `meta` may be: its blob, then the legacy `<id>.bin`. */
  contentFiles(meta: ArtifactMeta): string[] {
    const candidates = meta.blob_id ? [this.blob(meta.blob_id)] : [];
    candidates.push(this.legacyContent(meta.artifact_id));
    return candidates;
  }
}
