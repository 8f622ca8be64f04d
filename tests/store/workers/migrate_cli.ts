/** Test worker: runs `gateway migrate` with the given args through the CLI entry and exits with its code. */
import { main } from "../../../src/cli/main.ts";

Deno.exit(await main(["migrate", ...Deno.args]));
