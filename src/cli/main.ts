/** Subcommand dispatch. Exit codes: 0 ok, 1 runtime error, 2 usage or configuration error. */
import { ConfigError } from "../config/config.ts";
import { allowedPaths } from "../security/preflight.ts";
import { errorText } from "../util/log.ts";
import { UsageError } from "./args.ts";
import { configCommand } from "./config_cmd.ts";
import { versionCommand } from "./version.ts";

type Command = { summary: string; run: (args: string[]) => number | Promise<number> };

const COMMANDS: Record<string, Command> = {
  serve: {
    summary: "Serve the HTTP API (runner in-process unless --no-runner).",
    run: async (args) => (await import("./serve.ts")).serveCommand(args),
  },
  runner: {
    summary: "Run the worker only (split deployment; one per data dir).",
    run: async (args) => (await import("./runner.ts")).runnerCommand(args),
  },
  migrate: {
    summary: "Copy a file store into SQLite, or a file or SQLite store into PostgreSQL.",
    run: async (args) => (await import("./migrate.ts")).migrateCommand(args),
  },
  bundle: {
    summary: "List, inspect or validate .flow bundles.",
    run: async (args) => (await import("./bundle.ts")).bundleCommand(args),
  },
  runs: {
    summary: "List, inspect, start, pause, resume, cancel or answer runs on a running gateway.",
    run: async (args) => (await import("./runs.ts")).runsCommand(args),
  },
  commands: {
    summary: "Send a durable command or read its outcome.",
    run: async (args) => (await import("./commands_cmd.ts")).commandsCommand(args),
  },
  bundles: {
    summary: "Upload or remove bundles on a running gateway (list|inspect|validate as `bundle`).",
    run: async (args) => (await import("./bundles_remote.ts")).bundlesCommand(args),
  },
  tail: {
    summary: "Print a run's ledger live (replay, then stream; resumes after drops).",
    run: async (args) => (await import("./tail.ts")).tailCommand(args),
  },
  config: { summary: "Print the effective configuration (secrets masked).", run: configCommand },
  version: { summary: "Print the version (--json for scripts).", run: versionCommand },
  completions: {
    summary: "Print a shell completion script (bash, zsh or fish).",
    run: async (args) => (await import("./completions.ts")).completionsCommand(args, Object.keys(COMMANDS)),
  },
};

export function mainHelp(): string {
  return [
    "gateway: a durable run gateway (HTTP/SSE API, command inbox, replayable ledger).",
    "",
    "Usage: gateway <command> [flags]      gateway <command> --help for its flags",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`),
    "",
    "Every flag also has an ABSTRACTGATEWAY_* environment variable (see `gateway config --help`).",
  ].join("\n");
}

export async function main(args: string[]): Promise<number> {
  let [name, ...rest] = args;
  if (name === "help" && rest.length > 0) [name, rest] = [rest[0], ["--help"]]; // `help serve`
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(mainHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") name = "version";
  const command = COMMANDS[name];
  if (!command) {
    console.error(`gateway: unknown command '${name}' (try 'gateway --help')`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`gateway ${name}: ${err.message} (try 'gateway ${name} --help')`);
      return 2;
    }
    if (err instanceof ConfigError) {
      console.error(`gateway ${name}: ${err.message}`);
      return 2;
    }
    if (err instanceof Deno.errors.NotCapable) {
      // Deno's advice ("run again with --allow-…") cannot be followed by a compiled binary's user.
      const what = err.message.replace(/,? run again with .*$/s, "").replace(/^Requires /, "no ");
      console.error(`gateway ${name}: Cannot continue: ${what}; ${await allowedPaths()}`);
      return 2;
    }
    // A plain Error already reads "Cannot <verb> <thing>: <state>"; typed errors keep their name.
    const text = err instanceof Error && err.name === "Error" ? err.message : errorText(err);
    console.error(`gateway ${name}: ${text}`);
    return 1;
  }
}
