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

export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const suffix = crypto.randomUUID().replaceAll("-", "").slice(0, 16);
  const tmp = join(dirname(path), `.${basename(path)}.${suffix}.tmp`);
  let moved = false;
  try {
    const file = await Deno.open(tmp, { write: true, createNew: true });
    try {
      if (options.mode !== undefined) await Deno.chmod(tmp, options.mode);
      await writeAll(file, bytes);
      await file.syncData();
    } finally {
      file.close();
    }
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
