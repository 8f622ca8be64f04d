/**
 * `gateway migrate --from file --to sqlite`: copies a file data dir into the SQLite DB;
 * `--from file|sqlite --to postgres`: copies either into PostgreSQL (ABSTRACTGATEWAY_DATABASE_URL).
 */
import { parseArgs } from "node:util";
import { ConfigError, loadConfig, processEnv } from "../config/config.ts";
import { migrateFileToSqlite, type MigrateReport } from "../store/migrate.ts";
import { errorText } from "../util/log.ts";
import { migrateToPostgres } from "../store/migrate_postgres.ts";
import { assertNetPermitted } from "../store/open.ts";
import { urlEndpoint } from "../store/postgres/db.ts";

const HELP =
  `Usage: gateway migrate [--from file|sqlite] [--to sqlite|postgres] [--data-dir DIR] [--db-path FILE] [--force]

Copies runs, ledgers, the command inbox, command outcomes and the runner cursor from the file store
in DIR into the SQLite DB (or from the file or SQLite store into PostgreSQL, named by
ABSTRACTGATEWAY_DATABASE_URL), in one transaction, then verifies the ledger count of every run.
The source is only read. Running it again on an up-to-date target changes nothing. Migrating to
PostgreSQL refuses to start while a runner holds the source data dir.

Options:
  --from file|sqlite Source backend ("sqlite" only with --to postgres).
  --to sqlite|postgres Target backend.
  --data-dir DIR     Data dir (default $ABSTRACTGATEWAY_DATA_DIR or ./data).
  --db-path FILE     SQLite file under the data dir (default $ABSTRACTGATEWAY_DB_PATH or DIR/gateway.sqlite3).
  --force            Replace the contents of a DB that already holds other data (alias: --overwrite).
  -h, --help         Show this help.
`;

/** The per-run count table printed after a migration. */
function formatReport(report: MigrateReport, from: string, to: string): string {
  const header = ["run_id", "status", `ledger (${from})`, `ledger (${to})`];
  const rows = report.runs.map((
    r,
  ) => [r.run_id, r.status ?? "(no run file)", String(r.ledger_source), String(r.ledger_target)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  const t = report.totals;
  const cursors = Object.entries(report.cursors).map(([k, v]) => `${k}=${v}`).join(", ") || "none";
  return [
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    `totals: ${t.runs} runs, ${t.ledger_records} ledger records, ${t.commands} commands, ${t.outcomes} outcomes; cursors: ${cursors}`,
    report.changed ? "" : "target already up to date: nothing changed",
  ].filter((l) => l !== "").join("\n");
}

export async function migrateCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        from: { type: "string", default: "file" },
        to: { type: "string", default: "sqlite" },
        "data-dir": { type: "string" },
        "db-path": { type: "string" },
        force: { type: "boolean", default: false },
        overwrite: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (err) {
    console.error(`gateway migrate: ${err instanceof Error ? err.message : err} (see --help)`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const { from, to } = values;
  const toPostgres = to === "postgres" && (from === "file" || from === "sqlite");
  if (!toPostgres && (from !== "file" || to !== "sqlite")) {
    console.error(
      `gateway migrate: supported are --from file --to sqlite and --from file|sqlite --to postgres ` +
        `(got --from ${from} --to ${to})`,
    );
    return 2;
  }
  let dataDir: string;
  let dbPath: string;
  let databaseUrl: string | undefined;
  try {
    ({ dataDir, dbPath, databaseUrl } = loadConfig(processEnv(), {
      "data-dir": values["data-dir"],
      "db-path": values["db-path"],
    }));
    if (toPostgres && !databaseUrl) throw new ConfigError("--to postgres needs ABSTRACTGATEWAY_DATABASE_URL");
  } catch (err) {
    console.error(`gateway migrate: ${err instanceof ConfigError ? err.message : errorText(err)}`);
    return 2;
  }
  try {
    const force = values.force || values.overwrite;
    const log = (line: string) => console.error(`gateway migrate: ${line}`);
    let report: MigrateReport;
    if (toPostgres) {
      assertNetPermitted(databaseUrl!);
      report = await migrateToPostgres({ from, dataDir, dbPath, databaseUrl: databaseUrl!, force, log });
      const { host, port, database } = urlEndpoint(databaseUrl!);
      console.log(`Migrated ${from} stores from ${report.dataDir} to PostgreSQL ${host}:${port}/${database}`);
    } else {
      report = await migrateFileToSqlite({ dataDir, dbPath, force, log });
      console.log(`Migrated file stores from ${report.dataDir} to sqlite DB ${report.dbPath}`);
    }
    console.log(formatReport(report, from, to));
    return 0;
  } catch (err) {
    console.error(`gateway migrate: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
