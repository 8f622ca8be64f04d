/** Entry point of the stores: opens the configured backend on a data dir. */
import { dirname, join, resolve } from "node:path";
import type { OpenStoresOptions, Stores } from "./types.ts";
import { ConfigError, isUnder } from "../config/config.ts";
import { openFileStores } from "./file/stores.ts";
import { openSqliteStores } from "./sqlite/stores.ts";
import { sweepStaleTemps } from "../util/atomic.ts";
import { logger } from "../util/log.ts";
import { openPostgresStores } from "./postgres/stores.ts";

const log = logger("store");

export const DEFAULT_DB_FILE = "gateway.sqlite3";

/**
 * Resolves the SQLite path and enforces that it lies under the data dir (lexically, and again after
 * resolving symlinks of its directory), so one deployment cannot write into another's database.
 */
export async function resolveDbPath(dataDir: string, dbPath?: string): Promise<string> {
  const dir = resolve(dataDir);
  const path = resolve(dbPath ?? join(dir, DEFAULT_DB_FILE));
  const refuse = () => {
    throw new Error(
      `ABSTRACTGATEWAY_DB_PATH must point to a file under ABSTRACTGATEWAY_DATA_DIR ` +
        `(db_path=${path}, data_dir=${dir}); unset ABSTRACTGATEWAY_DB_PATH or move the file under the data dir`,
    );
  };
  if (!isUnder(path, dir)) refuse();
  const realDir = await Deno.realPath(dir).catch(() => dir);
  const realParent = await Deno.realPath(dirname(path)).catch(() => null);
  if (realParent !== null && !isUnder(join(realParent, "x"), realDir)) refuse();
  return path;
}

/** A data dir the gateway cannot write to is a configuration problem: one clear line, exit 2. */
async function assertWritable(dataDir: string): Promise<void> {
  const probe = join(dataDir, `.write-probe-${Deno.pid}-${crypto.randomUUID()}`);
  try {
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`Cannot write to the data dir ${dataDir}: ${reason}`);
  }
}

export async function openStores(options: OpenStoresOptions): Promise<Stores> {
  const dataDir = resolve(options.dataDir);
  await Deno.mkdir(dataDir, { recursive: true });
  await assertWritable(dataDir);
  const swept = await sweepStaleTemps(dataDir);
  if (swept > 0) log.info("removed temp files left by a crash", { data_dir: dataDir, count: swept });
  switch (options.backend) {
    case "file":
      return openFileStores(dataDir);
    case "sqlite": {
      const dbPath = await resolveDbPath(dataDir, options.dbPath);
      await Deno.mkdir(dirname(dbPath), { recursive: true });
      return openSqliteStores(dataDir, dbPath);
    }
    case "postgres": {
      if (!options.databaseUrl) throw new Error("Cannot open the postgres store: no database URL configured");
      return await openPostgresStores(
        dataDir,
        options.databaseUrl,
        options.poolSize ?? 10,
        options.wakeScope,
      );
    }
    default:
      throw new Error(
        `Unsupported store backend ${JSON.stringify(options.backend)} (expected file, sqlite or postgres)`,
      );
  }
}
