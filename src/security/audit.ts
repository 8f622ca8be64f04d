/**
 * Append-only audit log: one compact JSON line per write request to /api/gateway and per auth failure,
 * in `<dataDir>/audit_log.jsonl`. Lines never hold a raw token (only its fingerprint) nor query values.
 * The file rotates by size (`audit_log.<ts>.jsonl`, newest N kept). Writes are serialised through one
 * queue and never throw into the request path: I/O errors are logged and the entry is dropped.
 */
import { join } from "node:path";
import { errorText, logger } from "../util/log.ts";

const log = logger("audit");

export interface AuditEntry {
  ts: string;
  request_id: string;
  ip: string;
  method: string;
  path: string;
  /** Query keys only: `k1=<redacted>&k2=<redacted>` (empty when none). */
  query: string;
  /** Response status, 0 when no response was produced. */
  status: number;
  duration_ms: number;
  auth_required: boolean;
  auth_token_fp?: string;
  principal_user_id?: string;
  principal_tenant_id?: string;
  origin?: string;
  user_agent?: string;
  bytes_in?: number;
  headers?: Record<string, string>;
  error?: string;
}

export interface AuditLogOptions {
  dataDir: string;
  /** Rotate before an append once the file has reached this size; 0 = never. */
  maxBytes: number;
  /** Rotated files kept. */
  rotations: number;
}

export interface AuditTail {
  ok: true;
  /** Bytes of `content`. */
  bytes: number;
  /** True when the file holds more than was returned. */
  truncated: boolean;
  /** The newest whole lines of the log. */
  content: string;
}

const AUDIT_FILE = "audit_log.jsonl";
const ROTATED = /^audit_log\.(.+)\.jsonl$/;
const MAX_QUERY_KEYS = 50;
const MAX_FIELD = 512;
/** Never copied into an entry, even when listed in AUDIT_LOG_HEADERS. */
const SECRET_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie"]);

const clip = (value: string): string => value.length > MAX_FIELD ? `${value.slice(0, MAX_FIELD)}…` : value;

/** `?a=1&b=2` → `a=<redacted>&b=<redacted>` (at most 50 keys, values never kept). */
export function redactQuery(search: string): string {
  const keys: string[] = [];
  for (const [key] of new URLSearchParams(search)) {
    if (keys.length >= MAX_QUERY_KEYS) break;
    keys.push(`${encodeURIComponent(key.slice(0, 100))}=<redacted>`);
  }
  return keys.join("&");
}

/** The allow-listed request headers (lower-case names), never credentials. */
export function auditHeaders(headers: Headers, allow: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of allow) {
    const name = raw.toLowerCase();
    if (SECRET_HEADERS.has(name)) continue;
    const value = headers.get(name);
    if (value !== null) out[name] = clip(value);
  }
  return out;
}

/** Clips free-text fields so one hostile request cannot write a huge line. */
function clipEntry(entry: AuditEntry): AuditEntry {
  const out = { ...entry, path: clip(entry.path) };
  if (out.origin !== undefined) out.origin = clip(out.origin);
  if (out.user_agent !== undefined) out.user_agent = clip(out.user_agent);
  if (out.error !== undefined) out.error = clip(out.error);
  return out;
}

const rotationStamp = (date: Date): string => date.toISOString().replace(/[-:]/g, "");

export class AuditLog {
  readonly path: string;
  readonly #opts: AuditLogOptions;
  #pending: string[] = [];
  #drain: Promise<void> | null = null;

  /** Entries lost to write errors (e.g. a full disk) since start; each loss is also logged as an error. */
  dropped = 0;

  constructor(opts: AuditLogOptions) {
    this.#opts = opts;
    this.path = join(opts.dataDir, AUDIT_FILE);
  }

  /** Queues one entry; the append happens in the background, in order. */
  record(entry: AuditEntry): void {
    this.#pending.push(JSON.stringify(clipEntry(entry)) + "\n");
    this.#drain ??= this.#drainQueue();
  }

  /** Resolves once every entry recorded so far is on disk (or was dropped after an I/O error). */
  async flush(): Promise<void> {
    while (this.#drain) await this.#drain;
  }

  async #drainQueue(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const entries = this.#pending.length;
        const batch = this.#pending.join("");
        this.#pending = [];
        try {
          await this.#append(batch);
        } catch (err) {
          this.dropped += entries;
          log.error("audit append failed; entries dropped", {
            path: this.path,
            dropped: entries,
            dropped_total: this.dropped,
            error: errorText(err),
          });
        }
      }
    } finally {
      this.#drain = null;
    }
  }

  async #append(text: string): Promise<void> {
    await Deno.mkdir(this.#opts.dataDir, { recursive: true });
    await this.#rotateIfFull();
    await Deno.writeTextFile(this.path, text, { append: true, create: true, mode: 0o600 });
  }

  async #rotateIfFull(): Promise<void> {
    if (this.#opts.maxBytes <= 0) return;
    let size: number;
    try {
      size = (await Deno.stat(this.path)).size;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return;
      throw err;
    }
    if (size < this.#opts.maxBytes) return;
    await Deno.rename(this.path, await this.#freeRotatedName());
    await this.#prune();
  }

  async #freeRotatedName(): Promise<string> {
    const stamp = rotationStamp(new Date());
    for (let n = 0;; n++) {
      const name = join(this.#opts.dataDir, `audit_log.${stamp}${n ? `.${n}` : ""}.jsonl`);
      try {
        await Deno.lstat(name);
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) return name;
        throw err;
      }
    }
  }

  /** Names of the rotated files, oldest first. */
  async rotatedFiles(): Promise<string[]> {
    const names: string[] = [];
    for await (const e of Deno.readDir(this.#opts.dataDir)) {
      if (e.isFile && ROTATED.test(e.name)) names.push(e.name);
    }
    return names.sort();
  }

  async #prune(): Promise<void> {
    const names = await this.rotatedFiles();
    const excess = names.slice(0, Math.max(0, names.length - this.#opts.rotations));
    for (const name of excess) await Deno.remove(join(this.#opts.dataDir, name)).catch(() => {});
  }

  /**
   * The newest whole lines of the log within `maxBytes` (after pending entries are written). A missing
   * file reads as empty.
   */
  async tail(maxBytes: number): Promise<AuditTail> {
    await this.flush();
    let file: Deno.FsFile;
    try {
      file = await Deno.open(this.path, { read: true });
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return { ok: true, bytes: 0, truncated: false, content: "" };
      throw err;
    }
    try {
      const size = (await file.stat()).size;
      const truncated = size > maxBytes;
      // When cutting, read one byte more so a line that starts exactly at the cut is kept whole.
      const start = truncated ? size - maxBytes - 1 : 0;
      await file.seek(start, Deno.SeekMode.Start);
      const buf = new Uint8Array(size - start);
      let read = 0;
      while (read < buf.length) {
        const n = await file.read(buf.subarray(read));
        if (n === null) break;
        read += n;
      }
      let bytes = buf.subarray(0, read);
      if (truncated) {
        const firstNewline = bytes.indexOf(10);
        bytes = bytes.subarray(firstNewline < 0 ? bytes.length : firstNewline + 1);
      }
      return { ok: true, bytes: bytes.length, truncated, content: new TextDecoder().decode(bytes) };
    } finally {
      file.close();
    }
  }
}
