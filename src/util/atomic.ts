/**
 * Crash-safe file writes shared by the stores, the bundle host, the token file and operator tooling:
 * write a hidden temp file beside the target, fsync it, move it into place, fsync the directory.
 * Readers see the old content or the new, never a mix; a crash leaves at most a stray `.tmp` file,
 * whose name never matches a run, ledger, bundle or flow file.
 */
import { basename, dirname, join } from "node:path";

export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}

/** fsync a directory, so a rename or a new file in it survives power loss. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.sync();
  } finally {
    handle.close();
  }
}

export interface AtomicWriteOptions {
  /**
   * false: the final step is a hard link, which fails with `Deno.errors.AlreadyExists` when the target
   * exists (no check-then-write race). Default true (rename over the target).
   */
  overwrite?: boolean;
  /** Exact permission bits of the new file (set with chmod, so the umask does not apply). */
  mode?: number;
}

/**
 * First half of an atomic write: `data` in a fresh hidden temp file beside `path`, fsynced. Returns
 * the temp path; the caller moves it into place (rename / link), removes it on failure, and fsyncs
 * the directory — once for many staged files when it writes a batch.
 */
export function stageFile(path: string, data: Uint8Array | string, mode?: number): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return stage(path, async (tmp) => {
    const file = await Deno.open(tmp, { write: true, createNew: true });
    try {
      if (mode !== undefined) await Deno.chmod(tmp, mode);
      await writeAll(file, bytes);
      await file.syncData();
    } finally {
      file.close();
    }
  });
}

export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  await place(path, await stageFile(path, data, options.mode), options);
}

/** Copies `source` to `path` the same crash-safe way (the copy is made by the OS, not through memory). */
export async function copyFileAtomic(
  source: string,
  path: string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const tmp = await stage(path, async (tmp) => {
    await Deno.copyFile(source, tmp);
    if (options.mode !== undefined) await Deno.chmod(tmp, options.mode);
    const file = await Deno.open(tmp, { write: true });
    try {
      await file.syncData();
    } finally {
      file.close();
    }
  });
  await place(path, tmp, options);
}

/** Fills a hidden temp file beside `path` with `fill`; removes it again if filling fails. */
async function stage(path: string, fill: (tmp: string) => Promise<void>): Promise<string> {
  const tmp = join(dirname(path), `.${basename(path)}.${tempSuffix()}.tmp`);
  try {
    await fill(tmp);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  return tmp;
}

/** Moves a staged temp file into place (rename, or link when not overwriting) and fsyncs the directory. */
async function place(path: string, tmp: string, options: AtomicWriteOptions): Promise<void> {
  let moved = false;
  try {
    if (options.overwrite === false) {
      await Deno.link(tmp, path);
    } else {
      await Deno.rename(tmp, path);
      moved = true;
    }
  } finally {
    if (!moved) await Deno.remove(tmp).catch(() => {});
  }
  await syncDir(dirname(path));
}

/** 16 hex characters: the random part of a temp name that sweepStaleTemps recognises. */
export const tempSuffix = (): string => crypto.randomUUID().replaceAll("-", "").slice(0, 16);

/** The temp names writeFileAtomic uses: `.<target>.<16 hex>.tmp`. */
const TEMP_NAME = /^\..+\.[0-9a-f]{16}\.tmp$/;
/** Younger temps may belong to a write in flight in another process sharing the data dir. */
export const STALE_TEMP_MS = 60_000;

/**
 * Removes temp files a crash left behind under `root` (down to `maxDepth` directory levels) that are
 * older than STALE_TEMP_MS; returns how many. Unreadable directories are skipped.
 */
export async function sweepStaleTemps(root: string, maxDepth = 3): Promise<number> {
  let removed = 0;
  const cutoff = Date.now() - STALE_TEMP_MS;
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory && depth < maxDepth) await walk(path, depth + 1);
      else if (entry.isFile && TEMP_NAME.test(entry.name)) {
        const info = await Deno.lstat(path).catch(() => null);
        if (
          info?.mtime && info.mtime.getTime() < cutoff &&
          await Deno.remove(path).then(() => true, () => false)
        ) {
          removed++;
        }
      }
    }
  };
  await walk(root, 1);
  return removed;
}
