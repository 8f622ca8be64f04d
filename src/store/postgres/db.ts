/**
 * The PostgreSQL connection pool (the `postgres` npm driver). Every store call goes through `query`
 * or `tx`, which turn connection failures (server restarting, network gone) into
 * StoreUnavailableError: retryable, HTTP answers 503, and the pool reconnects on the next call. A
 * write resolves only after COMMIT, so an acknowledged write is never lost across a server restart.
 */
import postgres from "postgres";
import { StoreUnavailableError } from "../errors.ts";

export type Sql = postgres.Sql;
export type TxSql = postgres.TransactionSql;

/** Driver and server error codes that mean "the server is not reachable now", not "the query is wrong". */
const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND", // DNS: the name may resolve again (a restarting service, a flaky resolver)
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up / shutting down)
  "08000",
  "08001",
  "08003",
  "08004",
  "08006",
]);

export function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && UNAVAILABLE_CODES.has(code) ||
    err instanceof Deno.errors.ConnectionRefused || err instanceof Deno.errors.ConnectionReset;
}

function wrap(err: unknown, where: string): unknown {
  if (err instanceof StoreUnavailableError || !isUnavailable(err)) return err;
  const code = (err as { code?: string }).code ?? (err as Error).name;
  return new StoreUnavailableError(
    `Cannot reach PostgreSQL at ${where}: ${code} (the gateway reconnects; retry)`,
  );
}

export interface PgOptions {
  /** Pool size per process. */
  max: number;
}

/** Host and port named in a connection URL (for permission checks and logs; never the password). */
export function urlEndpoint(url: string): { host: string; port: number; database: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(
      "Cannot parse ABSTRACTGATEWAY_DATABASE_URL: expected postgres://user:password@host:port/db",
    );
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new Error(`Cannot use ABSTRACTGATEWAY_DATABASE_URL: scheme ${parsed.protocol} is not postgres:`);
  }
  return {
    host: parsed.hostname || "localhost",
    port: Number(parsed.port || 5432),
    database: decodeURIComponent(parsed.pathname.replace(/^\//, "")) || "postgres",
  };
}

export class PgDb {
  readonly sql: Sql;
  /** `host:port` for error texts (never the password). */
  readonly #where: string;

  constructor(url: string, options: PgOptions) {
    assertNetPermitted(url);
    const { host, port } = urlEndpoint(url);
    this.#where = `${host}:${port}`;
    this.sql = postgres(url, {
      max: options.max,
      idle_timeout: 30,
      connect_timeout: 5,
      onnotice: () => {},
    });
  }

  async query<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    try {
      return await fn(this.sql);
    } catch (err) {
      throw wrap(err, this.#where);
    }
  }

  /** One transaction; rolled back when `fn` throws. */
  async tx<T>(fn: (sql: TxSql) => Promise<T>): Promise<T> {
    try {
      return await this.sql.begin((tx) => fn(tx)) as T;
    } catch (err) {
      throw wrap(err, this.#where);
    }
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }
}

/**
 * The database host must be in the net permission set this process holds; checked up front so the
 * operator gets one clear line instead of a driver stack (or a permission prompt) at first query.
 */
function assertNetPermitted(url: string): void {
  const { host, port } = urlEndpoint(url);
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  const state = Deno.permissions.querySync({ name: "net", host: `${host}:${port}` }).state;
  if (state !== "granted") {
    throw new Error(
      `Cannot connect to PostgreSQL at ${bare}:${port}: the net permission set does not include this host ` +
        `(allow it in the gateway permission set, e.g. --allow-net=${host}:${port})`,
    );
  }
}
