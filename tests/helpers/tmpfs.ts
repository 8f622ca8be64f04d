/**
 * A small filesystem made by the test (tmpfs with a size limit, optionally read-only) for disk-full
 * and read-only faults. Mounting needs root (CAP_SYS_ADMIN); where the machine forbids it, tests
 * skip with the reason printed (`.ci/run` runs as root, so CI exercises them).
 */

export interface SmallFs {
  dir: string;
  unmount(): Promise<void>;
}

async function run(cmd: string, args: string[]): Promise<{ ok: boolean; err: string }> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
    return { ok: out.success, err: new TextDecoder().decode(out.stderr).trim() };
  } catch (err) {
    return { ok: false, err: String(err) };
  }
}

/** Mounts a tmpfs of `sizeKb` on `dir` (created); resolves a reason string when that is not possible. */
export async function mountSmallFs(dir: string, sizeKb: number, readOnly = false): Promise<SmallFs | string> {
  await Deno.mkdir(dir, { recursive: true });
  const opts = `size=${sizeKb}k,mode=0777${readOnly ? ",ro" : ""}`;
  const mounted = await run("mount", ["-t", "tmpfs", "-o", opts, "tmpfs", dir]);
  if (!mounted.ok) return `cannot mount a tmpfs here (${mounted.err || "mount failed"})`;
  return {
    dir,
    async unmount() {
      const res = await run("umount", [dir]);
      if (!res.ok) await run("umount", ["-l", dir]);
    },
  };
}

/** Fills the filesystem holding `dir` with one file; returns its path (remove it to free the space). */
export async function fillDisk(dir: string): Promise<string> {
  const path = `${dir}/filler.bin`;
  const file = await Deno.open(path, { write: true, create: true });
  const chunk = new Uint8Array(64 * 1024);
  try {
    for (;;) await file.write(chunk);
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOSPC") throw err;
  } finally {
    file.close();
  }
  // Smaller writes may still fit into a partial block: fill those too.
  const tail = await Deno.open(path, { append: true });
  try {
    for (;;) await tail.write(new Uint8Array(512));
  } catch {
    /* full */
  } finally {
    tail.close();
  }
  return path;
}
