/**
 * A throwaway PostgreSQL cluster for tests: initdb on a temp dir as an unprivileged user (the
 * `postgres` system user when we run as root), listening on 127.0.0.1 only on a random port, with
 * password auth over TCP, stopped (and its dir removed) at the end. The binaries are looked up in
 * `GATEWAY_PG_BIN` or the Debian layout; when they are absent, `PG_SKIP` names the reason so tests
 * register as ignored with that reason in their name (a bare clone still passes).
 *
 * The server is started with `pg_ctl -w` (it daemonises), so no Deno resource stays open across
 * tests. fsync is off: a clean stop/restart still flushes everything; tests never crash the host.
 */
import { join } from "node:path";
import { freePort } from "./free_port.ts";

const PASSWORD = "gw-test-secret";
const USER = "gateway";

function findBin(): string | null {
  const fromEnv = Deno.env.get("GATEWAY_PG_BIN");
  const candidates = fromEnv ? [fromEnv] : [];
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")].map((e) => e.name)
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch {
    // no Debian PostgreSQL
  }
  return candidates.find((dir) => {
    try {
      return Deno.statSync(join(dir, "initdb")).isFile;
    } catch {
      return false;
    }
  }) ?? null;
}

export const PG_BIN: string | null = findBin();
/** Why PostgreSQL tests are skipped, or null when they run. */
export const PG_SKIP: string | null = PG_BIN
  ? null
  : "skipped: PostgreSQL binaries not found (apt-get install postgresql, or set GATEWAY_PG_BIN)";

/** `Deno.test` name/ignore pair for a PostgreSQL test. */
export function pgTest(name: string): { name: string; ignore: boolean } {
  return { name: PG_SKIP ? `${name} (${PG_SKIP})` : name, ignore: PG_SKIP !== null };
}

const isRoot = Deno.uid() === 0;

async function exec(cmd: string, args: string[], asPostgres = true): Promise<string> {
  const [bin, argv] = isRoot && asPostgres
    ? ["runuser", ["-u", "postgres", "--", cmd, ...args]]
    : [cmd, args];
  const out = await new Deno.Command(bin, { args: argv, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`Cannot run ${cmd} ${args.join(" ")}: ${text.trim()}`);
  return text;
}

export class PgCluster {
  #running = false;
  private constructor(readonly dir: string, readonly port: number) {}

  /** Superuser URL of database `db`. */
  url(db = "postgres"): string {
    return `postgres://${USER}:${PASSWORD}@127.0.0.1:${this.port}/${db}`;
  }

  static async start(): Promise<PgCluster> {
    if (!PG_BIN) throw new Error(`Cannot start PostgreSQL: ${PG_SKIP}`);
    const dir = await Deno.makeTempDir({ prefix: "gw-pg-" });
    if (isRoot) {
      const uid = Number((await exec("id", ["-u", "postgres"], false)).trim());
      const gid = Number((await exec("id", ["-g", "postgres"], false)).trim());
      await Deno.chown(dir, uid, gid);
    }
    const pwfile = join(dir, "pw");
    await exec("sh", ["-c", `printf '%s\\n' '${PASSWORD}' > ${pwfile}`]);
    await exec(join(PG_BIN, "initdb"), [
      "-D",
      join(dir, "data"),
      "-U",
      USER,
      "--pwfile",
      pwfile,
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      "-E",
      "UTF8",
      "--no-sync",
    ]);
    const cluster = new PgCluster(dir, freePort());
    await cluster.#start();
    return cluster;
  }

  async #start(): Promise<void> {
    const opts = [
      `-p ${this.port}`,
      "-c listen_addresses=127.0.0.1",
      `-c unix_socket_directories=${this.dir}`,
      "-c fsync=off",
      "-c max_connections=200",
      "-c shared_buffers=32MB",
    ].join(" ");
    globalThis.addEventListener("unload", this.#stopOnExit);
    await exec(join(PG_BIN!, "pg_ctl"), [
      "-D",
      join(this.dir, "data"),
      "-o",
      opts,
      "-l",
      join(this.dir, "log"),
      "-w",
      "-t",
      "60",
      "start",
    ]);
    this.#running = true;
  }

  /** Safety net when a test run ends without `stop()` (a failure, `--filter`): no server outlives it. */
  #stopOnExit = () => {
    if (!this.#running) return;
    const [bin, args] = isRoot
      ? ["runuser", ["-u", "postgres", "--", join(PG_BIN!, "pg_ctl")]]
      : [join(PG_BIN!, "pg_ctl"), []];
    new Deno.Command(bin, { args: [...args, "-D", join(this.dir, "data"), "-m", "immediate", "stop"] })
      .outputSync();
    Deno.removeSync(this.dir, { recursive: true });
  };

  /** Stops with `-m fast` (clients are disconnected, committed work is flushed). */
  async stopServer(): Promise<void> {
    if (!this.#running) return;
    await exec(join(PG_BIN!, "pg_ctl"), ["-D", join(this.dir, "data"), "-m", "fast", "-w", "stop"]);
    this.#running = false;
    globalThis.removeEventListener("unload", this.#stopOnExit);
  }

  /** Stops then starts the server on the same port (a PostgreSQL restart under load). */
  async restart(downMs = 0): Promise<void> {
    await this.stopServer();
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.#start();
  }

  /** Creates an empty database and returns its URL. */
  async createDatabase(name: string): Promise<string> {
    await exec(join(PG_BIN!, "psql"), [
      "-h",
      this.dir,
      "-p",
      String(this.port),
      "-U",
      USER,
      "-d",
      "postgres",
      "-q",
      "-c",
      `CREATE DATABASE "${name}"`,
    ]);
    return this.url(name);
  }

  async stop(): Promise<void> {
    await this.stopServer();
    await Deno.remove(this.dir, { recursive: true });
  }
}
