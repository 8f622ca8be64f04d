import { childEnv } from "../helpers/gateway_process.ts";
import { MAIN_TS, REPO_ROOT } from "../helpers/paths.ts";

/** A subprocess whose output lines (stdout and stderr, interleaved) the test can wait for. */
export interface LineProcess {
  child: Deno.ChildProcess;
  lines: string[];
  /** Resolves with the ms waited once a line starting with (or, for JSON logs, containing) `prefix` was printed. */
  waitFor(prefix: string, timeoutMs: number): Promise<number>;
  /** SIGKILL if still running, then wait for exit and the end of output. */
  close(): Promise<void>;
}

export function spawnLines(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; clearEnv?: boolean } = {},
): LineProcess {
  const child = new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped", ...options })
    .spawn();
  const lines: string[] = [];
  let notify = () => {};
  const pump = (stream: ReadableStream<Uint8Array>) => {
    let partial = "";
    return stream.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({
        write(chunk) {
          const parts = (partial + chunk).split("\n");
          partial = parts.pop()!;
          lines.push(...parts);
          notify();
        },
      }),
    );
  };
  const done = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let exited = false;
  child.status.then(() => (exited = true));
  return {
    child,
    lines,
    async waitFor(prefix, timeoutMs) {
      const start = Date.now();
      const seen = () => lines.some((l) => l.startsWith(prefix) || (l.startsWith("{") && l.includes(prefix)));
      while (!seen()) {
        if (Date.now() - start > timeoutMs) {
          throw new Error(`no line '${prefix}…' within ${timeoutMs} ms (got: ${lines.join(" | ")})`);
        }
        if (exited) {
          await done.catch(() => {});
          if (!seen()) throw new Error(`process exited before '${prefix}' (got: ${lines.join(" | ")})`);
        }
        await sleepOrNotify(50, (n) => (notify = n));
      }
      return Date.now() - start;
    },
    async close() {
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
      await child.status;
      await done.catch(() => {});
    },
  };
}

function sleepOrNotify(ms: number, setNotify: (n: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    setNotify(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A `gateway runner` subprocess (with `args`) under the binary's permission set, logging at info. */
export function spawnRunner(args: string[], env: Record<string, string> = {}): LineProcess {
  return spawnLines(Deno.execPath(), ["run", "-P=gateway", "--no-prompt", MAIN_TS, "runner", ...args], {
    cwd: REPO_ROOT,
    clearEnv: true,
    env: childEnv({ ABSTRACTGATEWAY_LOG_LEVEL: "info", ...env }),
  });
}
