/** `gateway bundle list|inspect|validate`: offline helpers over `.flow` files (nothing is written). */
import { basename, resolve } from "node:path";
import { ConfigError, loadConfig, processEnv } from "../config/config.ts";
import { entrypointInputs } from "../bundles/inspect.ts";
import { nodeTypeOf } from "../bundles/namespace.ts";
import { readFlowBundle } from "../bundles/reader.ts";
import { describeUnrunnable, unrunnableInTree } from "../bundles/runnable.ts";
import { scanFlowsDir } from "../bundles/scan.ts";
import type { LoadedBundle } from "../bundles/types.ts";
import { latestVersion, versionChannel } from "../bundles/versions.ts";
import { readLimited } from "../security/limits.ts";
import { checkPaths, flowsPath } from "../security/preflight.ts";
import { parseFlags, settingFlags, settingFlagsHelp, UsageError } from "./args.ts";
import { table } from "./remote.ts";

export const BUNDLE_HELP = [
  "Usage:",
  "  gateway bundle list [--json] [--flows-dir D]      Loaded bundles (id@version, entrypoints) and bad files",
  "  gateway bundle inspect <file.flow | id[@version]> Manifest, flows and entrypoint inputs as JSON",
  "  gateway bundle validate <file.flow | ->...        Exit 0 when every file is a valid bundle, else 1;",
  "                                                    also lists reachable nodes this gateway cannot run",
  "",
  "`-` reads one bundle from stdin, so a file the binary may not open itself can still be checked:",
  "  gateway bundle validate - < ~/Downloads/x.flow",
  "",
  "Flags:",
  "  --json             (list) Print JSON instead of a table.",
  ...settingFlagsHelp("bundle"),
].join("\n");

/** The configured flows dir, once the process is known to be allowed to read it. */
async function flowsDirOf(values: Record<string, unknown>): Promise<string> {
  const config = loadConfig(processEnv(), { "flows-dir": values["flows-dir"] });
  await checkPaths([flowsPath(config)]);
  return config.flowsDir;
}

/** Reads a `.flow` given on the command line after checking that the process may read it. */
async function readBundleArg(arg: string): Promise<Uint8Array> {
  if (arg === "-") return await readStdin(loadConfig(processEnv()).maxBundleBytes);
  const file = resolve(arg);
  const fix = `pipe it in instead: gateway bundle <command> - < ${arg}`;
  await checkPaths([{ what: "bundle file", setting: "", path: file, write: false, fix }]);
  return await Deno.readFile(file);
}

/** stdin, refused past `limit` bytes so a wrong pipe cannot exhaust memory. */
async function readStdin(limit: number): Promise<Uint8Array> {
  const body = await readLimited(Deno.stdin.readable, limit);
  if (!body.ok) {
    throw new Error(
      `Cannot read bundle from stdin: larger than ${limit} bytes (ABSTRACTGATEWAY_MAX_BUNDLE_BYTES)`,
    );
  }
  return body.bytes;
}

async function list(values: Record<string, unknown>): Promise<number> {
  const flowsDir = await flowsDirOf(values);
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
  if (target === "-" || target.toLowerCase().endsWith(".flow") || target.includes("/")) {
    const file = target === "-" ? null : resolve(target);
    try {
      bundle = { ...(await readFlowBundle(await readBundleArg(target))), file };
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      console.error(`invalid ${target}: ${err instanceof Error ? err.message : String(err)}`);
      return 1;
    }
  } else {
    const flowsDir = await flowsDirOf(values);
    const { bundles } = await scanFlowsDir(flowsDir);
    const [id, version] = target.split("@", 2);
    const versions = bundles.filter((b) => b.manifest.bundle_id === id);
    bundle = version === undefined
      ? latestVersion(versions)
      : versions.find((b) => b.manifest.bundle_version === version);
    if (!bundle) {
      console.error(`gateway bundle inspect: bundle '${target}' not found in ${flowsDir}`);
      return 1;
    }
  }
  console.log(JSON.stringify(describe(bundle), null, 2));
  return 0;
}

async function validate(files: string[]): Promise<number> {
  if (files.filter((f) => f === "-").length > 1) throw new UsageError("stdin (-) can be read only once");
  let invalid = 0;
  for (const file of files) {
    try {
      const b = await readFlowBundle(await readBundleArg(file));
      console.log(`ok ${file}: ${b.ref} (${Object.keys(b.flows).length} flows)`);
      // valid, but a run would fail on these: reported, the exit code stays 0
      const seen = new Set<string>();
      const byId = new Map(Object.values(b.flows).map((f) => [f.id, f]));
      for (const flowId of byId.keys()) {
        for (const n of unrunnableInTree(flowId, (id) => byId.get(id))) {
          const line = `cannot run ${file}: ${describeUnrunnable(n)}`;
          if (!seen.has(line)) console.log(line);
          seen.add(line);
        }
      }
    } catch (err) {
      if (err instanceof ConfigError) throw err;
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
