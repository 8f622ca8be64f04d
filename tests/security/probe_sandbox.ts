/**
 * Run by sandbox_test.ts as `deno run -P=gateway --no-prompt tests/security/probe_sandbox.ts <json>` from
 * the repo root: tries each action the gateway's permission set must allow or forbid and prints one JSON
 * object `{action: "ok" | "<ErrorName>: <message>"}`. Input: {dataDir, outsideDir, outsideFile, loopbackPort}.
 */
import { execSync } from "node:child_process";
import { join } from "node:path";
import { guardedFetch, outboundPolicy } from "../../src/security/outbound.ts";
import { realPathInside } from "../../src/security/paths.ts";

interface ProbeInput {
  dataDir: string;
  outsideDir: string;
  outsideFile: string;
  loopbackPort: number;
}

const input: ProbeInput = JSON.parse(Deno.args[0]);

async function attempt(action: () => unknown): Promise<string> {
  try {
    await action();
    return "ok";
  } catch (err) {
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
}

const results: Record<string, string> = {
  read_inside: await attempt(() => Deno.readTextFile(join(input.dataDir, "inside.txt"))),
  write_inside: await attempt(() => Deno.writeTextFile(join(input.dataDir, "written.txt"), "x")),
  read_outside: await attempt(() => Deno.readTextFile(input.outsideFile)),
  read_etc_passwd: await attempt(() => Deno.readTextFile("/etc/passwd")),
  read_traversal: await attempt(() => Deno.readTextFile(`${input.dataDir}/../../..${input.outsideFile}`)),
  write_outside: await attempt(() => Deno.writeTextFile(join(input.outsideDir, "w.txt"), "x")),
  // Deno checks the path as given: a symlink in the data dir reaches its target (documented caveat) …
  read_symlink_raw: await attempt(() => Deno.readTextFile(join(input.dataDir, "link.txt"))),
  // … so the gateway resolves real paths before serving a file.
  read_symlink_guarded: await attempt(async () =>
    Deno.readTextFile(await realPathInside("link.txt", [input.dataDir]))
  ),
  read_symlinked_dir_guarded: await attempt(async () =>
    Deno.readTextFile(await realPathInside("linkdir/secret.txt", [input.dataDir]))
  ),
  read_inside_guarded: await attempt(async () =>
    Deno.readTextFile(await realPathInside("inside.txt", [input.dataDir]))
  ),
  // Each would leave a marker file outside the data dir if the command really ran.
  run_subprocess: await attempt(() =>
    new Deno.Command("sh", { args: ["-c", `echo ran > '${input.outsideDir}/ran-deno'`] }).output()
  ),
  run_node_child_process: await attempt(() => execSync(`echo ran > '${input.outsideDir}/ran-node'`)),
  // The cloud metadata address is denied by Deno itself, whatever the operator names.
  connect_metadata_ip: await attempt(async () =>
    (await Deno.connect({ hostname: "169.254.169.254", port: 80 })).close()
  ),
  // Other hosts are confined in-process: the runtime's one fetch layer refuses what is not named.
  fetch_unnamed_host: await attempt(async () =>
    (await guardedFetch(outboundPolicy([]))("http://example.com/")).body?.cancel()
  ),
  connect_loopback: await attempt(async () =>
    (await Deno.connect({ hostname: "127.0.0.1", port: input.loopbackPort })).close()
  ),
  env_outside_allow_list: await attempt(() => {
    if (Deno.env.get("PROBE_SECRET") !== undefined) throw new Error("PROBE_SECRET was readable");
  }),
};
console.log(JSON.stringify(results));
