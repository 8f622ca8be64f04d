/** Small durable-file helpers for the file backend. */
import { dirname } from "node:path";

export const isNotFound = (err: unknown): boolean => err instanceof Deno.errors.NotFound;

/** fsync a directory so a create/rename inside it survives a power loss. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.sync();
  } finally {
    handle.close();
  }
}

export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}

function randomHex(bytes = 8): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/**
 * Atomic replace: write `<path>.<hex>.tmp`, fsync it, rename over `path`, fsync the directory.
 * Readers see the old or the new content, never a mix; a crash leaves at most a stray .tmp file.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const tmp = `${path}.${randomHex()}.tmp`;
  const file = await Deno.open(tmp, { write: true, createNew: true });
  try {
    await writeAll(file, bytes);
    await file.syncData();
  } catch (err) {
    file.close();
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  file.close();
  try {
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  await syncDir(dirname(path));
}

/** Reads `length` bytes at `offset` (fewer at end of file). */
export async function readAt(file: Deno.FsFile, offset: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  await file.seek(offset, Deno.SeekMode.Start);
  let filled = 0;
  while (filled < length) {
    const n = await file.read(buf.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return filled === length ? buf : buf.subarray(0, filled);
}

/** Opens `path` for reading and writing, creating it when missing; `created` says which happened. */
export async function openOrCreate(path: string): Promise<{ file: Deno.FsFile; created: boolean }> {
  try {
    return { file: await Deno.open(path, { read: true, write: true }), created: false };
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return { file: await Deno.open(path, { read: true, write: true, create: true }), created: true };
  }
}

/** Reads a whole file, or null when it does not exist. */
export async function readIfExists(path: string): Promise<Uint8Array | null> {
  try {
    return await Deno.readFile(path);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** Removes a file; false when it did not exist. */
export async function removeIfExists(path: string): Promise<boolean> {
  try {
    await Deno.remove(path);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
