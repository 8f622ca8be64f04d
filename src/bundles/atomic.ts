/** Crash-safe file replacement: write a temp file in the same dir, fsync it, then rename over the target. */
import { basename, dirname, join } from "node:path";

export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const suffix = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  // The temp name must not end in `.flow`/`.json`, so directory scans never pick it up.
  const tmp = join(dirname(path), `.${basename(path)}.${suffix}.tmp`);
  try {
    const file = await Deno.open(tmp, { write: true, createNew: true });
    try {
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}
