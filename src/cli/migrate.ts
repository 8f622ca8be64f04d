/** `gateway migrate --from file --to sqlite`: copies a file data dir into the SQLite DB. */
import { ConfigError, loadConfig, processEnv } from "../config/config.ts";
import { checkPaths, storePaths } from "../security/preflight.ts";
import { RunnerLock } from "../runner/lock.ts";
import { migrateFileToSqlite, type MigrateReport } from "../store/migrate.ts";
import { parseFlags, UsageError } from "./args.ts";
import { table } from "./remote.ts";
import { errorText } from "../util/log.ts";

const HELP =
  `Usage: gateway migrate [--from file] [--to sqlite] [--data-dir DIR] [--db-path FILE] [--force] [--json]

Copies runs, ledgers, the command inbox, command outcomes and the runner cursor from the file store
in DIR into the SQLite DB, in one transaction, then verifies the ledger count of every run.
The source files are only read. Running it again on an up-to-date DB changes nothing ("Nothing to do").
It refuses to run while a runner (\`gateway serve\` or \`gateway runner\`) holds DIR's runner lock, and
holds that lock itself until it is done, so no runner starts meanwhile.

Options:
  --from file        Source backend (only "file").
  --to sqlite        Target backend (only "sqlite").
  --data-dir DIR     Data dir (default $ABSTRACTGATEWAY_DATA_DIR or ./data).
  --db-path FILE     SQLite file under the data dir (default $ABSTRACTGATEWAY_DB_PATH or DIR/gateway.sqlite3).
  --force            Replace the contents of a DB that already holds other data (alias: --overwrite).
  --json             Print the report as JSON (with elapsed_ms).
  -h, --help         Show this help.
`;

/** The per-run count table and the summary printed after a migration. */
function formatReport(report: MigrateReport, elapsedMs: number): string[] {
  const t = report.totals;
  const counts =
    `${t.runs} runs, ${t.ledger_records} ledger records, ${t.commands} commands, ${t.outcomes} outcomes`;
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
    `Migrated file stores from ${report.dataDir} to sqlite DB ${report.dbPath}`,
    ...table([["run_id", "status", "ledger (file)", "ledger (sqlite)"], ...rows]),
    `totals: ${counts}; cursors: ${cursors}; ${(elapsedMs / 1000).toFixed(2)} s`,
  ];
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
  if (values.from !== "file" || values.to !== "sqlite") {
    throw new UsageError(
      `only --from file --to sqlite is supported (got --from ${values.from} --to ${values.to})`,
    );
  }
  let dataDir: string;
  let dbPath: string;
  try {
    ({ dataDir, dbPath } = loadConfig(processEnv(), {
      "data-dir": values["data-dir"],
      "db-path": values["db-path"],
    }));
    await checkPaths(storePaths({ dataDir }));
  } catch (err) {
    console.error(`gateway migrate: ${err instanceof ConfigError ? err.message : errorText(err)}`);
    return 2;
  }
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
  const progress = Deno.stderr.isTerminal() && !values.json;
  const started = performance.now();
  try {
    const report = await migrateFileToSqlite({
      dataDir,
      dbPath,
      force: values.force === true || values.overwrite === true,
      log: (line) => console.error(`gateway migrate: ${line}`),
      progress: progress
        ? (done, total) =>
          Deno.stderr.writeSync(new TextEncoder().encode(`\rimporting ledgers ${done}/${total}`))
        : undefined,
    });
    if (progress && report.changed) console.error("");
    const elapsedMs = Math.round(performance.now() - started);
    if (values.json) console.log(JSON.stringify({ ...report, elapsed_ms: elapsedMs }, null, 2));
    else for (const line of formatReport(report, elapsedMs)) console.log(line);
    return 0;
  } finally {
    lock.release();
  }
}
