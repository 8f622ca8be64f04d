/**
 * `gateway migrate --from file --to sqlite`: copies a file data dir into the SQLite DB;
 * `--from file|sqlite --to postgres`: copies either into PostgreSQL (ABSTRACTGATEWAY_DATABASE_URL).
 */
import { ConfigError, loadConfig, processEnv } from "../config/config.ts";
import { checkPaths, storePaths } from "../security/preflight.ts";
import { RunnerLock } from "../runner/lock.ts";
import { migrateFileToSqlite, type MigrateReport } from "../store/migrate.ts";
import { migrateToPostgres } from "../store/migrate_postgres.ts";
import { urlEndpoint } from "../store/postgres/db.ts";
import { parseFlags, UsageError } from "./args.ts";
import { table } from "./remote.ts";
import { errorText } from "../util/log.ts";

const HELP =
  `Usage: gateway migrate [--from file|sqlite] [--to sqlite|postgres] [--data-dir DIR] [--db-path FILE] [--force] [--json]

Copies runs, ledgers, the command inbox, command outcomes, the runner cursor and artifact metadata
from the file store in DIR into the SQLite DB (or from the file or SQLite store into PostgreSQL, named by
ABSTRACTGATEWAY_DATABASE_URL), in one transaction, then verifies the ledger count of every run.
The source is only read. Running it again on an up-to-date target changes nothing ("Nothing to do").
It refuses to run while a runner (\`gateway serve\` or \`gateway runner\`) holds DIR's runner lock, and
holds that lock itself until it is done, so no runner starts meanwhile.

Options:
  --from file|sqlite   Source backend ("sqlite" only with --to postgres).
  --to sqlite|postgres Target backend.
  --data-dir DIR       Data dir (default $ABSTRACTGATEWAY_DATA_DIR or ./data).
  --db-path FILE       SQLite file under the data dir (default $ABSTRACTGATEWAY_DB_PATH or DIR/gateway.sqlite3).
  --force              Replace the contents of a target that already holds other data (alias: --overwrite).
  --json               Print the report as JSON (with elapsed_ms).
  -h, --help           Show this help.
`;

/** The per-run count table and the summary printed after a migration. */
function formatReport(report: MigrateReport, from: string, to: string, elapsedMs: number): string[] {
  const t = report.totals;
  const counts =
    `${t.runs} runs, ${t.ledger_records} ledger records, ${t.commands} commands, ${t.outcomes} outcomes, ` +
    `${t.artifacts} artifacts`;
  if (!report.changed) {
    return [`Nothing to do: ${report.dbPath} already holds every run of ${report.dataDir} (${counts}).`];
  }
  const rows = report.runs.map((r) => [
    r.run_id,
    r.status ?? "(no run file)",
    String(r.ledger_source),
    String(r.ledger_target),
  ]);
  const cursors = Object.entries(report.cursors).map(([k, v]) => `${k}=${v}`).join(", ") || "none";
  return [
    ...table([["run_id", "status", `ledger (${from})`, `ledger (${to})`], ...rows]),
    `totals: ${counts}; cursors: ${cursors}; ${(elapsedMs / 1000).toFixed(2)} s`,
  ];
}

/** Holds DIR's runner lock (without writing to it) so no runner starts during a migration to SQLite. */
async function holdRunnerLock(dataDir: string): Promise<RunnerLock> {
  const lock = new RunnerLock(dataDir);
  const locked = await lock.tryAcquire({ recordPid: false }).catch((err) => {
    if (err instanceof Deno.errors.NotFound) return true; // no data dir: migrate names the problem
    throw err;
  });
  if (!locked) {
    lock.release();
    throw new Error(
      `Cannot migrate ${dataDir}: a runner holds ${lock.path}; stop \`gateway serve\` and \`gateway runner\` first`,
    );
  }
  return lock;
}

export async function migrateCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    from: { type: "string", default: "file" },
    to: { type: "string", default: "sqlite" },
    "data-dir": { type: "string" },
    "db-path": { type: "string" },
    force: { type: "boolean", default: false },
    overwrite: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const from = String(values.from);
  const to = String(values.to);
  const toPostgres = to === "postgres" && (from === "file" || from === "sqlite");
  if (!toPostgres && (from !== "file" || to !== "sqlite")) {
    throw new UsageError(
      `supported are --from file --to sqlite and --from file|sqlite --to postgres (got --from ${from} --to ${to})`,
    );
  }
  let dataDir: string;
  let dbPath: string;
  let databaseUrl: string | undefined;
  try {
    ({ dataDir, dbPath, databaseUrl } = loadConfig(processEnv(), {
      "data-dir": values["data-dir"],
      "db-path": values["db-path"],
    }));
    await checkPaths(storePaths({ dataDir }));
    if (toPostgres && !databaseUrl) throw new ConfigError("--to postgres needs ABSTRACTGATEWAY_DATABASE_URL");
  } catch (err) {
    console.error(`gateway migrate: ${err instanceof ConfigError ? err.message : errorText(err)}`);
    return 2;
  }
  const force = values.force === true || values.overwrite === true;
  const log = (line: string) => console.error(`gateway migrate: ${line}`);
  const progress = Deno.stderr.isTerminal() && !values.json;
  const started = performance.now();
  let report: MigrateReport;
  if (toPostgres) {
    // migrateToPostgres holds the source's runner lock itself.
    report = await migrateToPostgres({
      from: from as "file" | "sqlite",
      dataDir,
      dbPath,
      databaseUrl: databaseUrl!,
      force,
      log,
    });
  } else {
    const lock = await holdRunnerLock(dataDir);
    try {
      report = await migrateFileToSqlite({
        dataDir,
        dbPath,
        force,
        log,
        progress: progress
          ? (done, total) =>
            Deno.stderr.writeSync(new TextEncoder().encode(`\rimporting ledgers ${done}/${total}`))
          : undefined,
      });
      if (progress && report.changed) console.error("");
    } finally {
      lock.release();
    }
  }
  const elapsedMs = Math.round(performance.now() - started);
  if (values.json) {
    console.log(JSON.stringify({ ...report, elapsed_ms: elapsedMs }, null, 2));
    return 0;
  }
  if (report.changed) {
    const target = toPostgres
      ? (({ host, port, database }) => `PostgreSQL ${host}:${port}/${database}`)(urlEndpoint(databaseUrl!))
      : `sqlite DB ${report.dbPath}`;
    console.log(`Migrated ${from} stores from ${report.dataDir} to ${target}`);
  }
  for (const line of formatReport(report, from, to, elapsedMs)) console.log(line);
  return 0;
}
