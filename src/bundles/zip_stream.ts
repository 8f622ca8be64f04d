/**
 * Guarded zip reading that never holds the event loop for long: the archive is read piece by piece from
 * a random-access source (a spooled upload or a bundle file, or bytes in memory), the central directory
 * is checked (names, entry count, declared sizes) before anything is inflated, and each wanted entry is
 * inflated in CHUNK_BYTES slices with fflate's streaming Inflate, stopping as soon as it produces more
 * than its header declared (a lying zip bomb costs at most one slice). Only the wanted entries (manifest
 * and flows) are inflated; the rest of the archive is never expanded in memory.
 */
import { createHash } from "node:crypto";
import { Inflate } from "fflate";
import { concatBytes } from "../util/bytes.ts";
import { BundleError } from "./types.ts";
import { checkEntries, corruptEntry, crc32, type EntryInfo, type ZipLimits } from "./zip.ts";

/** Compressed bytes read and inflated per step; each step awaits a read, so other work runs between. */
const CHUNK_BYTES = 64 * 1024;
/** The end-of-central-directory record is in the last 22 bytes + up to a 64 KiB comment. */
const EOCD_SEARCH = 22 + 0xffff;

/** Bytes of an archive by offset: a file read with positioned reads, or an array in memory. */
export interface ZipSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): void;
}

export function bytesSource(bytes: Uint8Array): ZipSource {
  return {
    size: bytes.length,
    read: (offset, length) => Promise.resolve(bytes.subarray(offset, offset + length)),
    close() {},
  };
}

export async function openFileSource(path: string): Promise<ZipSource> {
  const file = await Deno.open(path, { read: true });
  try {
    const { size } = await file.stat();
    return {
      size,
      async read(offset, length) {
        const out = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
        await file.seek(offset, Deno.SeekMode.Start);
        let got = 0;
        while (got < out.length) {
          const n = await file.read(out.subarray(got));
          if (n === null) throw new BundleError("Cannot read the bundle: the file shrank while being read");
          got += n;
        }
        return out;
      },
      close: () => file.close(),
    };
  } catch (err) {
    file.close();
    throw err;
  }
}

interface CentralEntry extends EntryInfo {
  method: number;
  crc: number;
  localOffset: number;
}

/** A checked archive: its file names and an async way to inflate chosen entries. */
export interface AsyncSafeZip {
  names: ReadonlySet<string>;
  extract(names: readonly string[]): Promise<Record<string, Uint8Array>>;
}

const notZip = (why: string) => new BundleError(`Not a .flow bundle: not a zip archive (${why})`);

async function readCentralDirectory(src: ZipSource, limits: ZipLimits): Promise<CentralEntry[]> {
  if (src.size < 22) throw notZip("too short");
  const tailStart = Math.max(0, src.size - EOCD_SEARCH);
  const tail = await src.read(tailStart, src.size - tailStart);
  const tv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = tail.length - 22;
  while (eocd >= 0 && tv.getUint32(eocd, true) !== 0x06054b50) eocd--;
  if (eocd < 0) throw notZip("no end of central directory");
  const count = tv.getUint16(eocd + 10, true);
  const cdSize = tv.getUint32(eocd + 12, true);
  const cdOffset = tv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) {
    throw new BundleError("Not a .flow bundle: ZIP64 archives are not supported");
  }
  if (count > limits.maxEntries) {
    throw new BundleError(`Bundle has too many zip entries (${count} > ${limits.maxEntries})`);
  }
  if (cdOffset + cdSize > tailStart + eocd) throw notZip("central directory out of bounds");
  const cd = await src.read(cdOffset, cdSize);
  const view = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
  // Names are UTF-8 when flag bit 11 says so, else Latin-1 (as fflate, the in-memory reader, reads them).
  const utf8 = new TextDecoder();
  const latin1 = new TextDecoder("latin1");
  const entries: CentralEntry[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > cd.length || view.getUint32(at, true) !== 0x02014b50) throw notZip("bad central directory");
    const nameLen = view.getUint16(at + 28, true);
    if (at + 46 + nameLen > cd.length) throw notZip("bad central directory");
    entries.push({
      name: (view.getUint16(at + 8, true) & 0x800 ? utf8 : latin1).decode(
        cd.subarray(at + 46, at + 46 + nameLen),
      ),
      method: view.getUint16(at + 10, true),
      crc: view.getUint32(at + 16, true),
      size: view.getUint32(at + 20, true),
      originalSize: view.getUint32(at + 24, true),
      localOffset: view.getUint32(at + 42, true),
    });
    at += 46 + nameLen + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return entries;
}

/** Inflates one entry slice by slice, checking its size against the header as it goes and its CRC at the end. */
async function inflateEntry(src: ZipSource, e: CentralEntry): Promise<Uint8Array> {
  const local = await src.read(e.localOffset, 30);
  const lv = new DataView(local.buffer, local.byteOffset, local.byteLength);
  if (local.length < 30 || lv.getUint32(0, true) !== 0x04034b50) throw corruptEntry(e.name);
  const start = e.localOffset + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
  if (start + e.size > src.size) throw corruptEntry(e.name);
  if (e.method !== 0 && e.method !== 8) {
    throw new BundleError(
      `Zip entry ${JSON.stringify(e.name)} uses unsupported compression method ${e.method}`,
    );
  }
  const parts: Uint8Array[] = [];
  let produced = 0;
  let crc = 0;
  const take = (chunk: Uint8Array) => {
    produced += chunk.length;
    if (produced > e.originalSize) throw corruptEntry(e.name);
    crc = crc32(chunk, crc);
    parts.push(chunk);
  };
  const inflater = e.method === 8 ? new Inflate((chunk) => take(chunk)) : null;
  let off = 0;
  do {
    const n = Math.min(CHUNK_BYTES, e.size - off);
    const slice = await src.read(start + off, n);
    off += n;
    if (!inflater) take(slice.slice());
    else {
      try {
        inflater.push(slice, off >= e.size);
      } catch (err) {
        if (err instanceof BundleError) throw err;
        throw new BundleError(`Corrupt zip data: ${(err as Error).message}`);
      }
    }
  } while (off < e.size);
  if (produced !== e.originalSize || crc !== e.crc) throw corruptEntry(e.name);
  return concatBytes(...parts);
}

/** Opens `src` as a zip after checking every entry's name, the entry count and declared sizes. */
export async function openSafeZipStream(src: ZipSource, limits: ZipLimits): Promise<AsyncSafeZip> {
  const entries = await readCentralDirectory(src, limits);
  const names = checkEntries(entries, limits);
  const byName = new Map(entries.map((e) => [e.name, e]));
  return {
    names,
    async extract(wanted) {
      const out: Record<string, Uint8Array> = {};
      for (const name of new Set(wanted)) {
        if (names.has(name)) out[name] = await inflateEntry(src, byName.get(name)!);
      }
      return out;
    },
  };
}

/** SHA-256 (hex) of the whole source, read in 1 MiB pieces. */
export async function sha256Source(src: ZipSource): Promise<string> {
  const hash = createHash("sha256");
  const piece = 1024 * 1024;
  for (let off = 0; off < src.size; off += piece) hash.update(await src.read(off, piece));
  return hash.digest("hex");
}

/** Runs `use` on the file at `path` as a source, closing it afterwards. */
export async function withFileSource<T>(path: string, use: (src: ZipSource) => Promise<T>): Promise<T> {
  const src = await openFileSource(path);
  try {
    return await use(src);
  } finally {
    src.close();
  }
}
