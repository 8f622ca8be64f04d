/**
 * Start-time check of every configured path and the bind address against the permissions this process
 * really holds (`Deno.permissions.query`). A compiled binary's permissions are fixed when it is built, so
 * Deno's own advice ("run again with the --allow-read flag") cannot be followed by its user: a path the
 * process may not touch is refused at once with one line naming the path, what the binary may touch and
 * the fix. Refusals are ConfigError (exit 2).
 */
import { type Config, ConfigError } from "../config/config.ts";

/** One path a command needs, with the setting that named it. */
export interface PathNeed {
  /** What the path is, e.g. "data dir". */
  what: string;
  /** The variable (and flag) that sets it, for the fix. */
  setting: string;
  path: string;
  write: boolean;
  /** The fix, when it is not the usual "start from the directory that holds data/" advice. */
  fix?: string;
}

/** The start-relative roots our permission sets grant (deno.json `gateway` and `gateway-tooling`). */
const KNOWN_ROOTS = ["./data", "./bundles", "./workspace", "./tooling"];

async function granted(descriptor: Deno.PermissionDescriptor): Promise<boolean> {
  return (await Deno.permissions.query(descriptor)).state === "granted";
}

function startDir(): string {
  try {
    return Deno.cwd();
  } catch {
    return "the start directory";
  }
}

/** "may read ./data, ./bundles and write ./data (relative to the directory it starts in, /srv/gw)". */
export async function allowedPaths(): Promise<string> {
  const read: string[] = [];
  const write: string[] = [];
  for (const root of KNOWN_ROOTS) {
    if (await granted({ name: "read", path: root })) read.push(root);
    if (await granted({ name: "write", path: root })) write.push(root);
  }
  const list = (paths: string[]) => paths.length ? paths.join(", ") : "nothing";
  return `this binary may read ${list(read)} and write ${
    list(write)
  }, relative to the directory it starts in (${startDir()})`;
}

/** Throws ConfigError for the first path of `needs` the process may not read (or write, when needed). */
export async function checkPaths(needs: PathNeed[]): Promise<void> {
  for (const need of needs) {
    const readable = await granted({ name: "read", path: need.path });
    if (readable && (!need.write || await granted({ name: "write", path: need.path }))) continue;
    const access = need.write ? "read and write" : "read";
    const fix = need.fix ??
      `start the binary from the directory that holds data/ and bundles/ (systemd: WorkingDirectory=), ` +
        `mount the path there (systemd: BindPaths=${need.path}:<that directory>/…), or unset ${need.setting}`;
    throw new ConfigError(
      `Cannot use ${need.what} ${need.path}: not permitted to ${access} it; ${await allowedPaths()}. Fix: ${fix}`,
    );
  }
}

const BIND_CANDIDATES = ["127.0.0.1", "localhost", "[::1]", "0.0.0.0", "[::]"];

const bracketed = (host: string) => host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;

/** Throws ConfigError when the process may not listen on host:port (`portSetting` names the port's setting). */
export async function checkBind(
  host: string,
  port: number,
  portSetting = "ABSTRACTGATEWAY_PORT (--port)",
): Promise<void> {
  const shown = bracketed(host);
  if (await granted({ name: "net", host: `${shown}:${port}` })) {
    // Permitted: also make sure the address exists here and the port is free, before anything opens.
    try {
      Deno.listen({ hostname: host.replace(/^\[|\]$/g, ""), port }).close();
    } catch (err) {
      throw bindError(err, host, port, portSetting);
    }
    return;
  }
  const usable: string[] = [];
  for (const h of BIND_CANDIDATES) if (await granted({ name: "net", host: `${h}:${port}` })) usable.push(h);
  throw new ConfigError(
    `Cannot listen on ${shown}:${port}: not permitted to use that address; this binary may listen on ` +
      `${usable.join(", ") || "no address"}. Fix: set ABSTRACTGATEWAY_HOST (--host) to one of them ` +
      `(0.0.0.0 for every interface, with a token) and put a reverse proxy in front for other addresses`,
  );
}

/** Maps a failed listen (address not on this machine, port taken) to a one-line ConfigError. */
export function bindError(
  err: unknown,
  host: string,
  port: number,
  portSetting = "ABSTRACTGATEWAY_PORT (--port)",
): unknown {
  const where = `${bracketed(host)}:${port}`;
  if (err instanceof Deno.errors.AddrNotAvailable) {
    return new ConfigError(
      `Cannot listen on ${where}: the address is not on this machine. Fix: set ABSTRACTGATEWAY_HOST (--host) ` +
        `to one of this machine's addresses, or 0.0.0.0 for every interface`,
    );
  }
  if (err instanceof Deno.errors.AddrInUse) {
    return new ConfigError(
      `Cannot listen on ${where}: the port is already in use. Fix: stop the other process or set ${portSetting}`,
    );
  }
  return err;
}

/** The data dir (read/write) and the flows dir a command works on. */
export function storePaths(config: Pick<Config, "dataDir">): PathNeed[] {
  return [{
    what: "data dir",
    setting: "ABSTRACTGATEWAY_DATA_DIR (--data-dir)",
    path: config.dataDir,
    write: true,
  }];
}

/**
 * The flows dir, to read. Writing it is only needed for bundle uploads, which report a read-only flows dir
 * themselves (the tooling permission set, for one, does not allow it).
 */
export function flowsPath(config: Pick<Config, "flowsDir">): PathNeed {
  return {
    what: "flows dir",
    setting: "ABSTRACTGATEWAY_FLOWS_DIR (--flows-dir)",
    path: config.flowsDir,
    write: false,
  };
}

/** The operator tooling paths, when tooling is on. */
export function toolingPaths(config: Config): PathNeed[] {
  if (!config.enableTooling) return [];
  const needs: PathNeed[] = [];
  if (config.workspaceDir) {
    needs.push({
      what: "workspace dir",
      setting: "ABSTRACTGATEWAY_WORKSPACE_DIR",
      path: config.workspaceDir,
      write: true,
    });
  }
  for (const [name, path] of Object.entries(config.workspaceMounts)) {
    needs.push({
      what: `workspace mount '${name}'`,
      setting: "ABSTRACTGATEWAY_WORKSPACE_MOUNTS",
      path,
      write: false,
    });
  }
  if (config.toolingCommands) {
    needs.push({
      what: "tooling commands file",
      setting: "ABSTRACTGATEWAY_TOOLING_COMMANDS",
      path: config.toolingCommands,
      write: false,
    });
  }
  return needs;
}

/** `serve` and `runner`: data dir, flows dir and tooling paths. */
export async function checkServePaths(config: Config): Promise<void> {
  await checkPaths([...storePaths(config), flowsPath(config), ...toolingPaths(config)]);
}
