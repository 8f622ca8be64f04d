/**
 * Client idempotency keys for `POST /runs/start`: `<dataDir>/start_keys/<sha256(key)>.json` maps a
 * key to the run it created. The first request reserves the key with an exclusive create (so two
 * racing requests, even in two processes, cannot both win); the loser waits for the winner's run.
 * A reservation whose run never appeared (the winner crashed) is taken over with the same run id.
 * Reusing a key for a different request is a client bug: 409 instead of silently returning the
 * other run.
 */
import { join } from "node:path";
import { HttpError } from "./errors.ts";
import { sha256Hex } from "../util/hash.ts";
import { writeFileAtomic } from "../util/atomic.ts";

const WAIT_MS = 5000;
const POLL_MS = 25;

interface KeyRecord {
  key: string;
  run_id: string;
  /** sha256 of the request the key was first used with. */
  request: string;
  created_at: string;
}

export function checkIdempotencyKey(key: string): string {
  const k = key.trim();
  if (!k || k.length > 255) throw new HttpError(400, "idempotency_key must be 1..255 characters");
  return k;
}

export class StartKeys {
  readonly #dir: string;
  readonly #inFlight = new Map<string, Promise<string>>();

  constructor(dataDir: string) {
    this.#dir = join(dataDir, "start_keys");
  }

  /**
   * Returns the run id bound to `key`, calling `start(runId)` exactly once across retries.
   * `exists(runId)` tells whether a run was persisted (used to detect an abandoned reservation).
   */
  async runFor(
    key: string,
    request: unknown,
    start: (runId: string) => Promise<void>,
    exists: (runId: string) => Promise<boolean>,
  ): Promise<string> {
    const fingerprint = sha256Hex(JSON.stringify(request));
    const pending = this.#inFlight.get(key);
    if (pending) {
      const runId = await pending;
      await this.#checkSame(key, fingerprint);
      return runId;
    }
    const work = this.#resolve(key, fingerprint, start, exists);
    this.#inFlight.set(key, work);
    try {
      return await work;
    } finally {
      this.#inFlight.delete(key);
    }
  }

  async #checkSame(key: string, fingerprint: string): Promise<void> {
    const record = await this.#read(this.#path(key));
    if (record && record.request !== fingerprint) {
      throw new HttpError(409, `idempotency_key '${key}' was already used with a different request`);
    }
  }

  #path(key: string): string {
    return join(this.#dir, `${sha256Hex(key)}.json`);
  }

  async #resolve(
    key: string,
    fingerprint: string,
    start: (runId: string) => Promise<void>,
    exists: (runId: string) => Promise<boolean>,
  ): Promise<string> {
    await Deno.mkdir(this.#dir, { recursive: true });
    const path = this.#path(key);
    const mine: KeyRecord = {
      key,
      run_id: crypto.randomUUID(),
      request: fingerprint,
      created_at: new Date().toISOString(),
    };
    if (await this.#createExclusive(path, mine)) {
      try {
        await start(mine.run_id);
      } catch (err) {
        await Deno.remove(path).catch(() => {});
        throw err;
      }
      return mine.run_id;
    }
    const theirs = await this.#read(path);
    if (theirs === null) return await this.#resolve(key, fingerprint, start, exists); // released: retry
    if (theirs.request !== fingerprint) {
      throw new HttpError(409, `idempotency_key '${key}' was already used with a different request`);
    }
    const deadline = Date.now() + WAIT_MS;
    while (Date.now() < deadline) {
      if (await exists(theirs.run_id)) return theirs.run_id;
      await new Promise((r) => setTimeout(r, POLL_MS));
      if ((await this.#read(path)) === null) return await this.#resolve(key, fingerprint, start, exists);
    }
    // The reserving request never created its run (crash): finish the job under the same id.
    await start(theirs.run_id);
    return theirs.run_id;
  }

  /** Publishes the record complete or not at all (temp file + hard link, which fails if it exists). */
  async #createExclusive(path: string, record: KeyRecord): Promise<boolean> {
    try {
      await writeFileAtomic(path, JSON.stringify(record), { overwrite: false });
      return true;
    } catch (err) {
      if (err instanceof Deno.errors.AlreadyExists) return false;
      throw err;
    }
  }

  /**
   * The record at `path`, or null when there is none. A torn record (left by a crash of a version
   * that wrote markers in place) counts as absent and is removed, so its key can be used again.
   */
  async #read(path: string): Promise<KeyRecord | null> {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
    try {
      const parsed = JSON.parse(text) as KeyRecord;
      if (typeof parsed?.run_id === "string" && typeof parsed.request === "string") return parsed;
    } catch {
      // torn: fall through
    }
    await Deno.remove(path).catch(() => {});
    return null;
  }
}
