/** `gateway bundles upload|remove`: change the bundles of a running gateway (other subcommands: `bundle`). */
import { basename } from "node:path";
import { parseFlags, UsageError } from "./args.ts";
import { bundleCommand } from "./bundle.ts";
import { attempt, CLIENT_FLAGS_HELP, clientFlags, connect, output, positionalArgs } from "./remote.ts";

export const BUNDLES_HELP = [
  "Usage:",
  "  gateway bundles upload <file.flow> [--overwrite]   Install a bundle on the running gateway",
  "  gateway bundles remove <bundle_id> [--version V]   Remove one version (or every version)",
  "  gateway bundles list|inspect|validate ...          Offline, as `gateway bundle` (see its --help)",
  "",
  "Flags:",
  "  --overwrite        (upload) Replace an installed bundle of the same id and version.",
  "  --version V        (remove) Only this version.",
  ...CLIENT_FLAGS_HELP,
].join("\n");

export async function bundlesCommand(args: string[]): Promise<number> {
  const sub = args.find((a) => !a.startsWith("-"));
  if (sub !== "upload" && sub !== "remove") {
    if (sub === undefined && (args.includes("--help") || args.includes("-h"))) {
      console.log(BUNDLES_HELP);
      return 0;
    }
    return await bundleCommand(args);
  }
  const { values, positionals } = parseFlags(args, {
    ...clientFlags("bundles"),
    overwrite: { type: "boolean" },
    version: { type: "string" },
  }, true);
  if (values.help) {
    console.log(BUNDLES_HELP);
    return 0;
  }
  if (sub === "upload") {
    const [, file] = positionalArgs(positionals, ["upload", "file.flow"]);
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(file);
    } catch (err) {
      throw new UsageError(`cannot read ${file}: ${err instanceof Error ? err.message : err}`);
    }
    const client = await connect(values);
    const up = await attempt(
      `upload ${file}`,
      () => client.uploadBundle(bytes, { filename: basename(file), overwrite: values.overwrite === true }),
    );
    output(values, up, () => [
      `installed ${up.bundle_ref} (entrypoints: ${up.entrypoints.map((e) => e.flow_id).join(", ")})`,
      ...(up.gateway_reload_error ? [`reload failed: ${up.gateway_reload_error}`] : []),
    ]);
    return 0;
  }
  const [, bundleId] = positionalArgs(positionals, ["remove", "bundle_id"]);
  const client = await connect(values);
  const version = values.version as string | undefined;
  const gone = await attempt(`remove bundle ${bundleId}`, () => client.removeBundle(bundleId, version));
  output(values, gone, () => [`removed ${gone.removed} file(s) of ${gone.bundle_ref}`]);
  return 0;
}
