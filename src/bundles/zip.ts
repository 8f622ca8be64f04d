/**
 * Guarded zip reading for `.flow` bundles: entry names, counts and declared sizes are checked
 * before anything is inflated, so zip-slip names and zip bombs are refused up front.
 */
import { BundleError } from "./types.ts";

export interface ZipLimits {
  /** Sum of the declared uncompressed sizes of every entry. */
  maxBytes: number;
  /** Declared uncompressed size of one entry. */
  maxEntryBytes: number;
  maxEntries: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxBytes: 512 * 1024 * 1024,
  maxEntryBytes: 128 * 1024 * 1024,
  maxEntries: 10_000,
};

/** Entries above this size must not expand more than MAX_RATIO times (deflate tops out near 1032:1). */
const RATIO_FLOOR_BYTES = 1024 * 1024;
const MAX_RATIO = 200;

export interface EntryInfo {
  name: string;
  /** Compressed size. */
  size: number;
  originalSize: number;
}

/** A relative path is safe when it is not absolute, has no drive prefix and no `.`/`..` segment. */
export function isSafeRelativePath(path: string): boolean {
  if (path === "" || path.includes("\0") || path.includes("\\")) return false;
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) return false;
  return path.split("/").every((seg) => seg !== "" && seg !== "." && seg !== "..");
}

/** The names of the file entries, after checking names, count and declared sizes (413 when too large). */
export function checkEntries(entries: EntryInfo[], limits: ZipLimits): Set<string> {
  if (entries.length > limits.maxEntries) {
    throw new BundleError(`Bundle has too many zip entries (${entries.length} > ${limits.maxEntries})`);
  }
  const names = new Set<string>();
  let total = 0;
  for (const e of entries) {
    const isDir = e.name.endsWith("/");
    const path = isDir ? e.name.slice(0, -1) : e.name;
    if (!isSafeRelativePath(path)) {
      throw new BundleError(
        `Unsafe zip entry name ${JSON.stringify(e.name)} (absolute, '..' or drive prefix)`,
      );
    }
    if (isDir) continue;
    if (names.has(e.name)) throw new BundleError(`Duplicate zip entry ${JSON.stringify(e.name)}`);
    names.add(e.name);
    if (e.originalSize > limits.maxEntryBytes) {
      throw new BundleError(
        `Zip entry ${JSON.stringify(e.name)} is too large uncompressed ` +
          `(${e.originalSize} bytes > ${limits.maxEntryBytes} bytes)`,
        413,
      );
    }
    if (e.originalSize > RATIO_FLOOR_BYTES && e.originalSize > e.size * MAX_RATIO) {
      throw new BundleError(
        `Zip entry ${JSON.stringify(e.name)} has a suspicious compression ratio ` +
          `(${e.size} -> ${e.originalSize} bytes); refusing a possible zip bomb`,
      );
    }
    total += e.originalSize;
    if (total > limits.maxBytes) {
      throw new BundleError(`Bundle is too large uncompressed (more than ${limits.maxBytes} bytes)`, 413);
    }
  }
  return names;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** Continues a CRC-32 over `data` (start with 0; the result is the CRC of everything fed so far). */
export function crc32(data: Uint8Array, previous = 0): number {
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The message for an entry whose inflated data disagrees with its header. */
export const corruptEntry = (name: string) =>
  new BundleError(`Corrupt zip entry ${JSON.stringify(name)}: size or CRC does not match its header`);
