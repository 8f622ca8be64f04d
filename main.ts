/** The `gateway` executable: every part is a subcommand (see src/cli/main.ts). */
import { main } from "./src/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
