/**
 * Process manager for DECLARED commands only (ABSTRACTGATEWAY_TOOLING_COMMANDS): start, stop, status
 * and log tails by command id. A request can only name an id; the argv, cwd and env come from the
 * operator's file. Children get a clean environment (the gateway's token and API keys are never
 * inherited), run in their own process group, and write stdout/stderr to a rotating log under
 * `<dataDir>/tooling/logs/<id>.log`.
 */
import { join } from "node:path";
import { isoUtc } from "../util/time.ts";
import { logger } from "../util/log.ts";
import { type DeclaredCommand, loadDeclaredCommands } from "./commands.ts";
import { ToolingError } from "./errors.ts";
import { RotatingLog, tailFile } from "./log_file.ts";
import { signalGroup } from "./signal.ts";

const log = logger("tooling");
const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

export interface ProcessManagerOptions {
  /** The declared-commands JSON file; without it nothing can be started. */
  commandsFile?: string;
  dataDir: string;
  /** Wait between SIGTERM and SIGKILL on stop (default 5 s). */
  graceMs?: number;
  /** Rotate a command's log at this size (default 5 MiB), keeping `logKeep` old files (default 3). */
  logMaxBytes?: number;
  logKeep?: number;
}

export type ProcessStatus = "never_started" | "running" | "stopping" | "exited";

export interface ProcessInfo {
  id: string;
  description: string | null;
  argv: string[];
  cwd: string | null;
  status: ProcessStatus;
  pid: number | null;
  started_at: string | null;
  exited_at: string | null;
  exit_code: number | null;
  signal: string | null;
  /** False when the executable is outside the run permission list (start would be refused). */
  permitted: boolean;
}

interface Running {
  child: Deno.ChildProcess;
  startedAt: string;
  stopping: boolean;
  /** Resolves when the process has exited and its output is flushed to the log. */
  done: Promise<void>;
}

interface Exited {
  pid: number;
  startedAt: string;
  exitedAt: string;
  code: number;
  signal: string | null;
}

export class ProcessManager {
  readonly #options: ProcessManagerOptions;
  #commands: Promise<Map<string, DeclaredCommand>> | null = null;
  readonly #running = new Map<string, Running>();
  readonly #exited = new Map<string, Exited>();
  #closed = false;

  constructor(options: ProcessManagerOptions) {
    this.#options = options;
  }

  /** True when a commands file is configured. */
  get available(): boolean {
    return this.#options.commandsFile !== undefined;
  }

  get logsDir(): string {
    return join(this.#options.dataDir, "tooling", "logs");
  }

  /** The declared commands (read once, on first use). */
  commands(): Promise<Map<string, DeclaredCommand>> {
    const file = this.#options.commandsFile;
    if (file === undefined) return Promise.resolve(new Map());
    this.#commands ??= loadDeclaredCommands(file);
    // A bad file stays an error on every call, but is re-read so a fix needs no restart.
    this.#commands.catch(() => (this.#commands = null));
    return this.#commands;
  }

  async status(): Promise<ProcessInfo[]> {
    const commands = await this.commands();
    return await Promise.all([...commands].map(([id, cmd]) => this.#info(id, cmd)));
  }

  async get(id: string): Promise<ProcessInfo> {
    return await this.#info(id, await this.#declared(id));
  }

  async start(id: string): Promise<ProcessInfo> {
    const cmd = await this.#declared(id);
    await Deno.mkdir(this.logsDir, { recursive: true });
    // Nothing below awaits until the entry is registered, so two concurrent starts cannot both spawn.
    if (this.#closed) throw new ToolingError(503, "The process manager is shutting down");
    if (this.#running.has(id)) throw new ToolingError(409, `Process '${id}' is already running`);
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(cmd.argv[0], {
        args: cmd.argv.slice(1),
        cwd: cmd.cwd,
        clearEnv: true,
        env: { PATH: DEFAULT_PATH, ...cmd.env },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        detached: true,
      }).spawn();
    } catch (err) {
      throw spawnError(id, cmd, err);
    }
    const logFile = new RotatingLog(
      join(this.logsDir, `${id}.log`),
      this.#options.logMaxBytes ?? 5 * 1024 * 1024,
      this.#options.logKeep ?? 3,
    );
    const entry: Running = { child, startedAt: isoUtc(), stopping: false, done: Promise.resolve() };
    entry.done = this.#supervise(id, entry, cmd, logFile);
    this.#running.set(id, entry);
    this.#exited.delete(id);
    log.info("tooling process started", { id, pid: child.pid });
    return await this.#info(id, cmd);
  }

  /** SIGTERM to the process group, SIGKILL after the grace period. Stopping a stopped process is a no-op. */
  async stop(id: string): Promise<ProcessInfo> {
    const cmd = await this.#declared(id);
    const entry = this.#running.get(id);
    if (entry) await this.#terminate(entry);
    return await this.#info(id, cmd);
  }

  /** Stop (if running), then start again. */
  async restart(id: string): Promise<ProcessInfo> {
    await this.stop(id);
    return await this.start(id);
  }

  async logsTail(id: string, maxBytes: number): Promise<{ id: string; size: number; text: string }> {
    await this.#declared(id);
    const tail = await tailFile(join(this.logsDir, `${id}.log`), maxBytes);
    return { id, ...tail };
  }

  /** Stops every running process; no further starts are accepted. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#running.values()].map((entry) => this.#terminate(entry)));
  }

  async #declared(id: string): Promise<DeclaredCommand> {
    const cmd = (await this.commands()).get(id);
    if (!cmd) {
      throw new ToolingError(
        404,
        `Unknown process '${id}' (not declared in ABSTRACTGATEWAY_TOOLING_COMMANDS)`,
      );
    }
    return cmd;
  }

  async #terminate(entry: Running): Promise<void> {
    entry.stopping = true;
    await signalGroup(entry.child, "SIGTERM");
    const grace = timeout(this.#options.graceMs ?? 5000);
    const stillRunning = await Promise.race([entry.done.then(() => false), grace.promise.then(() => true)]);
    grace.cancel();
    if (stillRunning) await signalGroup(entry.child, "SIGKILL");
    await entry.done;
  }

  /** Pumps output into the log until the process exits; then records how it ended. */
  async #supervise(id: string, entry: Running, cmd: DeclaredCommand, logFile: RotatingLog): Promise<void> {
    // Queued before any output chunk, so the header comes first in the log.
    logFile.writeLine(
      `--- ${entry.startedAt} started pid=${entry.child.pid} argv=${JSON.stringify(cmd.argv)}`,
    )
      .catch(() => {});
    const readers = [entry.child.stdout.getReader(), entry.child.stderr.getReader()];
    const pumps = readers.map(async (reader) => {
      while (true) {
        const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
        if (done || !value) return;
        await logFile.write(value).catch(() => {});
      }
    });
    const status = await entry.child.status;
    // A grandchild outside the group may still hold the pipes: give it a moment, then stop reading.
    const drain = timeout(1000);
    await Promise.race([Promise.all(pumps), drain.promise]);
    drain.cancel();
    await Promise.all(readers.map((r) => r.cancel().catch(() => {})));
    await Promise.all(pumps);
    const exitedAt = isoUtc();
    const how = status.signal ? `signal=${status.signal}` : `code=${status.code}`;
    await logFile.writeLine(`--- ${exitedAt} exited ${how}`).catch(() => {});
    await logFile.flush();
    this.#running.delete(id);
    this.#exited.set(id, {
      pid: entry.child.pid,
      startedAt: entry.startedAt,
      exitedAt,
      code: status.code,
      signal: status.signal,
    });
    log.info("tooling process exited", {
      id,
      pid: entry.child.pid,
      code: status.code,
      signal: status.signal,
    });
  }

  async #info(id: string, cmd: DeclaredCommand): Promise<ProcessInfo> {
    const running = this.#running.get(id);
    const exited = this.#exited.get(id);
    const permission = await Deno.permissions.query({ name: "run", command: cmd.argv[0] });
    return {
      id,
      description: cmd.description ?? null,
      argv: cmd.argv,
      cwd: cmd.cwd ?? null,
      status: running ? (running.stopping ? "stopping" : "running") : exited ? "exited" : "never_started",
      pid: running?.child.pid ?? exited?.pid ?? null,
      started_at: running?.startedAt ?? exited?.startedAt ?? null,
      exited_at: running ? null : exited?.exitedAt ?? null,
      exit_code: running ? null : exited?.code ?? null,
      signal: running ? null : exited?.signal ?? null,
      permitted: permission.state === "granted",
    };
  }
}

function spawnError(id: string, cmd: DeclaredCommand, err: unknown): ToolingError {
  if (err instanceof Deno.errors.NotCapable) {
    return new ToolingError(
      403,
      `Process '${id}': ${cmd.argv[0]} is not in the run permission list (add it to "run" of the ` +
        `gateway-tooling permission set in deno.json)`,
    );
  }
  if (err instanceof Deno.errors.NotFound) {
    return new ToolingError(
      500,
      `Process '${id}': executable ${cmd.argv[0]} or cwd ${cmd.cwd ?? "."} not found`,
    );
  }
  return new ToolingError(
    500,
    `Process '${id}' could not start: ${err instanceof Error ? err.message : err}`,
  );
}

/** A cancellable sleep (cancel it so no timer outlives its use). */
function timeout(ms: number): { promise: Promise<void>; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return { promise, cancel: () => clearTimeout(timer) };
}
