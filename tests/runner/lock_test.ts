import assert from "node:assert/strict";
import { join } from "node:path";
import { abortableDelay, LOCK_FILE, RunnerLock } from "../../src/runner/lock.ts";
import { sandboxTempDir } from "../helpers/paths.ts";

const WORKER = new URL("./workers/hold_lock.ts", import.meta.url).pathname;

Deno.test("RunnerLock: exclusive within one data dir, appends pid lines, frees on release", async () => {
  const dir = await Deno.makeTempDir();
  const a = new RunnerLock(dir);
  const b = new RunnerLock(dir);
  try {
    assert.equal(await a.tryAcquire(), true);
    assert.equal(a.held, true);
    assert.equal(await b.tryAcquire(), false);
    a.release();
    assert.equal(await b.tryAcquire(), true);
    const text = await Deno.readTextFile(join(dir, LOCK_FILE));
    assert.deepEqual(text.trim().split("\n"), [`pid=${Deno.pid}`, `pid=${Deno.pid}`]);
  } finally {
    a.release();
    b.release();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("RunnerLock.acquire: waits while held, stops waiting on abort", async () => {
  const dir = await Deno.makeTempDir();
  const holder = new RunnerLock(dir);
  const waiter = new RunnerLock(dir);
  const stop = new AbortController();
  try {
    await holder.tryAcquire();
    let waited = false;
    const pending = waiter.acquire(stop.signal, { pollMs: 20, onWait: () => (waited = true) });
    await abortableDelay(100, new AbortController().signal);
    assert.equal(waited, true);
    assert.equal(waiter.held, false);
    holder.release();
    assert.equal(await pending, true);
    assert.equal(waiter.held, true);
    waiter.release();
    await holder.tryAcquire();
    const aborted = waiter.acquire(stop.signal, { pollMs: 20 });
    stop.abort();
    assert.equal(await aborted, false);
  } finally {
    holder.release();
    waiter.release();
    await Deno.remove(dir, { recursive: true });
  }
});

interface Worker {
  child: Deno.ChildProcess;
  lines: string[];
  waitFor(text: string, timeoutMs: number): Promise<number>;
  done: Promise<void>;
}

function startWorker(dir: string): Worker {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", `--allow-read=${dir}`, `--allow-write=${dir}`, "--no-prompt", WORKER, dir],
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const lines: string[] = [];
  let notify = () => {};
  const done = child.stdout.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({
      write(chunk) {
        lines.push(...chunk.split("\n").filter(Boolean));
        notify();
      },
    }),
  );
  return {
    child,
    lines,
    done,
    async waitFor(text, timeoutMs) {
      const start = Date.now();
      while (!lines.some((l) => l.startsWith(text))) {
        if (Date.now() - start > timeoutMs) {
          throw new Error(`no '${text}' in ${timeoutMs} ms: ${lines.join("|")}`);
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 50);
          notify = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
      return Date.now() - start;
    },
  };
}

Deno.test("lock takeover: kill -9 of the holder lets the waiting runner in within a second", async () => {
  const dir = await sandboxTempDir("runner-lock-");
  const first = startWorker(dir);
  let second: Worker | null = null;
  try {
    await first.waitFor("LOCKED", 20_000);
    second = startWorker(dir);
    await second.waitFor("WAITING", 20_000);
    assert.ok(!second.lines.some((l) => l.startsWith("LOCKED")), "second must not lock while first holds");
    first.child.kill("SIGKILL");
    const status = await first.child.status;
    assert.equal(status.signal, "SIGKILL");
    const tookMs = await second.waitFor("LOCKED", 5_000);
    assert.ok(tookMs < 1_000, `takeover took ${tookMs} ms`);
    const pids = (await Deno.readTextFile(join(dir, LOCK_FILE))).trim().split("\n");
    assert.equal(pids.length, 2);
    second.child.kill("SIGTERM");
    assert.equal((await second.child.status).code, 0);
    assert.ok(second.lines.includes("RELEASED"));
  } finally {
    for (const w of [first, second]) {
      if (!w) continue;
      try {
        w.child.kill("SIGKILL");
      } catch { /* exited */ }
      await w.child.status;
      await w.done;
    }
    await Deno.remove(dir, { recursive: true });
  }
});
