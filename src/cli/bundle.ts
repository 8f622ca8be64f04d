/** `gateway bundle list|inspect|validate`: offline helpers over `.flow` files (nothing is written). */
import { basename, resolve } from "node:path";
import { loadConfig, processEnv } from "../config/config.ts";
import { entrypointInputs } from "../bundles/inspect.ts";
import { nodeTypeOf } from "../bundles/namespace.ts";
import { readFlowBundle } from "../bundles/reader.ts";
import { scanFlowsDir } from "../bundles/scan.ts";
import type { LoadedBundle } from "../bundles/types.ts";
import { latestVersion, versionChannel } from "../bundles/versions.ts";
import { parseFlags, settingFlags, settingFlagsHelp, UsageError } from "./args.ts";
import { table } from "./remote.ts";

export const BUNDLE_HELP = [
  "Usage:",
  "  gateway bundle list [--json] [--flows-dir D]      Loaded bundles (id@version, entrypoints) and bad files",
  "  gateway bundle inspect <file.flow | id[@version]> Manifest, flows and entrypoint inputs as JSON",
  "  gateway bundle validate <file.flow>...            Exit 0 when every file is a valid bundle, else 1",
  "",
  "Flags:",
  "  --json             (list) Print JSON instead of a table.",
  ...settingFlagsHelp("bundle"),
].join("\n");

function flowsDirOf(values: Record<string, unknown>): string {
  return loadConfig(processEnv(), { "flows-dir": values["flows-dir"] }).flowsDir;
}

async function list(values: Record<string, unknown>): Promise<number> {
  const flowsDir = flowsDirOf(values);
  const { bundles, errors } = await scanFlowsDir(flowsDir);
  if (values.json) {
    const items = bundles.map((b) => ({
      bundle_ref: b.ref,
      file: b.file,
      version_channel: versionChannel(b.manifest.bundle_version),
      default_entrypoint: b.manifest.default_entrypoint,
      entrypoints: b.manifest.entrypoints.map((e) => e.flow_id),
    }));
    console.log(JSON.stringify({ flows_dir: flowsDir, bundles: items, errors }, null, 2));
    return 0;
  }
  console.log(`Flows dir: ${flowsDir}`);
  if (bundles.length === 0) console.log("No bundles loaded.");
  else {
    const rows = [["BUNDLE", "CHANNEL", "ENTRYPOINTS", "FILE"]];
    for (const b of bundles) {
      const eps = b.manifest.entrypoints.map((e) =>
        e.flow_id === b.manifest.default_entrypoint ? `${e.flow_id}*` : e.flow_id
      );
      rows.push([b.ref, versionChannel(b.manifest.bundle_version), eps.join(","), basename(b.file ?? "")]);
    }
    for (const line of table(rows)) console.log(line);
  }
  for (const e of errors) console.log(`invalid ${basename(e.file)}: ${e.error}`);
  return 0;
}

function describe(bundle: LoadedBundle): unknown {
  const flows = Object.fromEntries(
    Object.entries(bundle.flows).map(([flowId, flow]) => [flowId, {
      workflow_id: flow.id,
      name: flow.name ?? null,
      nodes: flow.nodes.length,
      edges: flow.edges.length,
      node_types: [...new Set(flow.nodes.map(nodeTypeOf))].sort(),
    }]),
  );
  const entrypoints = bundle.manifest.entrypoints.map((e) => ({
    flow_id: e.flow_id,
    workflow_id: `${bundle.ref}:${e.flow_id}`,
    name: e.name,
    inputs: bundle.flows[e.flow_id] ? entrypointInputs(bundle.flows[e.flow_id]) : [],
  }));
  return {
    bundle_ref: bundle.ref,
    file: bundle.file,
    sha256: bundle.sha256,
    manifest: bundle.manifest,
    flows,
    entrypoints,
  };
}

async function inspect(values: Record<string, unknown>, target: string): Promise<number> {
  let bundle: LoadedBundle | undefined;
  if (target.toLowerCase().endsWith(".flow") || target.includes("/")) {
    const file = resolve(target);
    try {
      bundle = { ...readFlowBundle(await Deno.readFile(file)), file };
    } catch (err) {
      console.error(`invalid ${target}: ${err instanceof Error ? err.message : String(err)}`);
      return 1;
    }
  } else {
    const { bundles } = await scanFlowsDir(flowsDirOf(values));
    const [id, version] = target.split("@", 2);
    const versions = bundles.filter((b) => b.manifest.bundle_id === id);
    bundle = version === undefined
      ? latestVersion(versions)
      : versions.find((b) => b.manifest.bundle_version === version);
    if (!bundle) {
      console.error(`gateway bundle inspect: bundle '${target}' not found in ${flowsDirOf(values)}`);
      return 1;
    }
  }
  console.log(JSON.stringify(describe(bundle), null, 2));
  return 0;
}

async function validate(files: string[]): Promise<number> {
  let invalid = 0;
  for (const file of files) {
    try {
      const b = readFlowBundle(await Deno.readFile(file));
      console.log(`ok ${file}: ${b.ref} (${Object.keys(b.flows).length} flows)`);
    } catch (err) {
      invalid++;
      console.error(`invalid ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return invalid === 0 ? 0 : 1;
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    { json: { type: "boolean" }, ...settingFlags("bundle") },
    true,
  );
  const [sub, ...rest] = positionals;
  if (values.help || sub === "help") {
    console.log(BUNDLE_HELP);
    return 0;
  }
  switch (sub) {
    case "list":
      if (rest.length > 0) throw new UsageError(`list takes no arguments (got '${rest[0]}')`);
      return await list(values);
    case "inspect":
      if (rest.length !== 1) throw new UsageError("inspect needs exactly one <file.flow | id[@version]>");
      return await inspect(values, rest[0]);
    case "validate":
      if (rest.length === 0) throw new UsageError("validate needs at least one <file.flow>");
      return await validate(rest);
    case undefined:
      throw new UsageError("missing subcommand (list, inspect or validate)");
    default:
      throw new UsageError(`unknown subcommand '${sub}' (list, inspect or validate)`);
  }
}

export async function bundleCommand(args: string[]): Promise<number> {
  try {
    return await run(args);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`gateway bundle: ${err.message} (try 'gateway bundle --help')`);
      return 2;
    }
    throw err;
  }
}
