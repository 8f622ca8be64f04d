/** Crash-safe file replacement: write a temp file beside the target, fsync, then rename or hard-link. */
import { basename, dirname, join } from "node:path";

/**
 * Writes `bytes` to `target` atomically: readers see the old content or the new, never a mix.
 * With `overwrite: false` the final step is a hard link, which fails with `Deno.errors.AlreadyExists`
 * if the target appeared meanwhile (no check-then-write race).
 */
export async function writeAtomic(target: string, bytes: Uint8Array, overwrite: boolean): Promise<void> {
  const tmp = join(dirname(target), `.${basename(target)}.tmp-${crypto.randomUUID()}`);
  try {
    const file = await Deno.open(tmp, { write: true, createNew: true, mode: 0o644 });
    try {
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.syncData();
    } finally {
      file.close();
    }
    if (overwrite) await Deno.rename(tmp, target);
    else await Deno.link(tmp, target);
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}
