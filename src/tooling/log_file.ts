/**
 * An append-only log file that rotates by size: `<name>.log` → `<name>.log.1` → … → `<name>.log.<keep>`.
 * Writes are serialised through one promise chain, so chunks from stdout and stderr never interleave
 * mid-chunk and rotation never races a write.
 */
export class RotatingLog {
  #size = -1;
  #chain: Promise<void> = Promise.resolve();

  constructor(readonly path: string, readonly maxBytes: number, readonly keep: number) {}

  /** Queues `bytes` for appending; resolves when they are on disk. */
  write(bytes: Uint8Array): Promise<void> {
    const next = this.#chain.then(() => this.#append(bytes));
    this.#chain = next.catch(() => {});
    return next;
  }

  writeLine(text: string): Promise<void> {
    return this.write(new TextEncoder().encode(text + "\n"));
  }

  /** Resolves once every queued write has finished. */
  flush(): Promise<void> {
    return this.#chain;
  }

  /** Appends, rotating first whenever the current file would exceed `maxBytes` (large chunks are split). */
  async #append(bytes: Uint8Array): Promise<void> {
    if (this.#size < 0) this.#size = await Deno.stat(this.path).then((s) => s.size, () => 0);
    let rest = bytes;
    while (rest.length > 0) {
      if (this.#size >= this.maxBytes) await this.#rotate();
      const part = rest.subarray(0, this.maxBytes - this.#size);
      const file = await Deno.open(this.path, { append: true, create: true });
      try {
        let written = 0;
        while (written < part.length) written += await file.write(part.subarray(written));
      } finally {
        file.close();
      }
      this.#size += part.length;
      rest = rest.subarray(part.length);
    }
  }

  async #rotate(): Promise<void> {
    for (let i = this.keep - 1; i >= 1; i--) {
      await Deno.rename(`${this.path}.${i}`, `${this.path}.${i + 1}`).catch(() => {});
    }
    if (this.keep > 0) await Deno.rename(this.path, `${this.path}.1`);
    else await Deno.remove(this.path);
    this.#size = 0;
  }
}

/** The last `maxBytes` of a file (an empty string when it does not exist). */
export async function tailFile(path: string, maxBytes: number): Promise<{ text: string; size: number }> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { text: "", size: 0 };
    throw err;
  }
  try {
    const { size } = await file.stat();
    const start = Math.max(0, size - maxBytes);
    await file.seek(start, Deno.SeekMode.Start);
    const buf = new Uint8Array(size - start);
    let total = 0;
    while (total < buf.length) {
      const n = await file.read(buf.subarray(total));
      if (n === null) break;
      total += n;
    }
    // A cut in the middle of a UTF-8 sequence decodes as U+FFFD; fine for a log tail.
    return { text: new TextDecoder().decode(buf.subarray(0, total)), size };
  } finally {
    file.close();
  }
}
