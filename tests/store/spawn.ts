/** Spawns a worker script (path relative to this file) and reads its stdout line by line. */
export interface Worker {
  child: Deno.ChildProcess;
  lines: AsyncIterator<string>;
}

export function spawnWorker(script: string, args: string[]): Worker {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", new URL(script, import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(lineSplitter())
    [Symbol.asyncIterator]();
  return { child, lines };
}

function lineSplitter(): TransformStream<string, string> {
  let buffer = "";
  return new TransformStream({
    transform(chunk, controller) {
      buffer += chunk;
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      for (const part of parts) controller.enqueue(part);
    },
    flush(controller) {
      if (buffer) controller.enqueue(buffer); // a line cut by a kill is kept as is
    },
  });
}

/** Reads every remaining line (until the worker's stdout closes). */
export async function drain(worker: Worker): Promise<string[]> {
  const out: string[] = [];
  for (let r = await worker.lines.next(); !r.done; r = await worker.lines.next()) out.push(r.value);
  return out;
}

/** Parsed "ack <i> <value>" lines; a partial last line (cut by kill -9) is ignored. */
export function acks(lines: string[]): { i: number; value: number }[] {
  return lines.flatMap((l) => {
    const m = /^ack (\d+) (\d+)$/.exec(l);
    return m ? [{ i: Number(m[1]), value: Number(m[2]) }] : [];
  });
}
