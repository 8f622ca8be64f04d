/** Test worker: runs the migrate subcommand with the given args and exits with its code. */
import { migrateCommand } from "../../../src/cli/migrate.ts";

Deno.exit(await migrateCommand(Deno.args));
