/** Small durable-file helpers for the file backend. */

export const isNotFound = (err: unknown): boolean => err instanceof Deno.errors.NotFound;

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
