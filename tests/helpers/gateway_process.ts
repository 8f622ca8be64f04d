/**
 * Starts the real entry point (`main.ts`) as a subprocess under the same `gateway` permission set
 * that `deno task serve` and `deno task compile` use, and waits until it listens.
 */
import { join } from "node:path";
import { MAIN_TS, REPO_ROOT } from "./paths.ts";

export interface GatewayProcess {
  url: string;
  child: Deno.ChildProcess;
  /** Everything the process printed on stdout so far. */
  stdout(): string;
  stderr(): string;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number>;
  /** SIGKILL (a real crash) and wait. */
  kill(): Promise<void>;
}

/** Env for a subprocess: nothing from the test's own ABSTRACTGATEWAY_* leaks in. */
export function childEnv(env: Record<string, string>): Record<string, string> {
  const keep = ["PATH", "HOME", "DENO_DIR", "DENO_TLS_CA_STORE", "NODE_EXTRA_CA_CERTS"];
  const base: Record<string, string> = {};
  for (const k of keep) {
    const v = Deno.env.get(k);
    if (v !== undefined) base[k] = v;
  }
  return { ...base, ABSTRACTGATEWAY_LOG_LEVEL: "warn", ...env };
}

/** Env for a gateway on `dataDir` serving our example bundles, with `token` and a fast poll. */
export function bundlesEnv(dataDir: string, token: string): Record<string, string> {
  return {
    ABSTRACTGATEWAY_DATA_DIR: dataDir,
    ABSTRACTGATEWAY_FLOWS_DIR: join(REPO_ROOT, "bundles"),
    ABSTRACTGATEWAY_AUTH_TOKEN: token,
    ABSTRACTGATEWAY_POLL_S: "0.05",
  };
}

/** Where and how the process starts: by default from the repo root under `-P=gateway`. */
export interface Launch {
  cwd: string;
  /** Deno flags before main.ts (permissions, config). */
  flags: string[];
  /** A command the process runs under (e.g. `["prlimit", "--nofile=96"]`). */
  wrapper?: string[];
  /** The entry to run (default: this checkout's main.ts; the upload bench runs a baseline checkout's). */
  main?: string;
}

export const FROM_REPO: Launch = { cwd: REPO_ROOT, flags: ["-P=gateway"] };

/** Spawns `deno run <launch flags> main.ts <args>` (default: `-P=gateway` from the repo root), output piped. */
export function spawnGateway(
  args: string[],
  env: Record<string, string>,
  launch: Launch = FROM_REPO,
): Deno.ChildProcess {
  const argv = [
    Deno.execPath(),
    "run",
    "-q",
    ...launch.flags,
    "--no-prompt",
    launch.main ?? MAIN_TS,
    ...args,
  ];
  const [cmd, ...rest] = [...(launch.wrapper ?? []), ...argv];
  return new Deno.Command(cmd, {
    args: rest,
    cwd: launch.cwd,
    env: childEnv(env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Collects a stream's text as it arrives. */
function collect(stream: ReadableStream<Uint8Array>, onText: (all: string) => void): Promise<void> {
  let all = "";
  return stream.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({
      write(chunk) {
        all += chunk;
        onText(all);
      },
    }),
  );
}

/** `gateway serve` (or `serve --no-runner`) on 127.0.0.1 with a free port. */
export async function startServe(
  env: Record<string, string>,
  extraArgs: string[] = [],
  timeoutMs = 30_000,
  launch: Launch = FROM_REPO,
): Promise<GatewayProcess> {
  const child = spawnGateway(["serve", "--host", "127.0.0.1", "--port", "0", ...extraArgs], env, launch);
  let out = "";
  let err = "";
  const ready = Promise.withResolvers<string>();
  const outDone = collect(child.stdout, (all) => {
    out = all;
    const m = all.match(/listening on (http:\/\/\S+)/);
    if (m) ready.resolve(m[1]);
  });
  const errDone = collect(child.stderr, (all) => (err = all));
  const exited = child.status;
  const timer = setTimeout(
    () => ready.reject(new Error(`serve did not start in ${timeoutMs} ms`)),
    timeoutMs,
  );
  exited.then((s) => ready.reject(new Error(`serve exited with ${s.code}: ${err}`)));
  const drained = () => Promise.all([outDone, errDone]).catch(() => {});
  try {
    const url = await ready.promise;
    return {
      url,
      child,
      stdout: () => out,
      stderr: () => err,
      async stop() {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
        const status = await exited;
        await drained();
        return status.code;
      },
      async kill() {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
        await exited;
        await drained();
      },
    };
  } catch (e) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await exited;
    await drained();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `main.ts <args>` to completion; returns exit code and output. */
export async function runGateway(
  args: string[],
  env: Record<string, string> = {},
  launch: Launch = FROM_REPO,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawnGateway(args, env, launch);
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
