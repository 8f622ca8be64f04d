/** Flag parsing shared by the subcommands: node:util parseArgs plus the flags of the settings table. */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { SETTINGS } from "../config/settings.ts";

/** Bad command line: printed as one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** parseArgs options for every setting that has a flag on `command`. */
export function settingFlags(command: string): ParseArgsOptionsConfig {
  const options: ParseArgsOptionsConfig = {};
  for (const s of SETTINGS) {
    if (s.flag && s.commands?.includes(command)) options[s.flag] = { type: "string" };
  }
  return options;
}

/** Help lines for the setting flags of `command`: `--flag VALUE  help (env VAR, default X)`. */
export function settingFlagsHelp(command: string): string[] {
  return SETTINGS.filter((s) => s.flag && s.commands?.includes(command)).map((s) => {
    const dflt = s.default === undefined ? "" : `, default ${s.default}`;
    return `  --${s.flag!.padEnd(16)} ${s.help} (env ${s.env}${dflt})`;
  });
}

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Strict parse; unknown flags and missing values become a UsageError naming the flag. */
export function parseFlags(
  args: string[],
  options: ParseArgsOptionsConfig,
  allowPositionals = false,
): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { help: { type: "boolean", short: "h" }, ...options },
      allowPositionals,
      strict: true,
    });
    return { values: values as Parsed["values"], positionals };
  } catch (err) {
    throw new UsageError(usageText(err));
  }
}

/** node:util parseArgs errors in our words (its own text mentions `--` tricks and "ambiguous"). */
function usageText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string }).code;
  const flag = /'(-[^ ']+)/.exec(message)?.[1] ?? "";
  const arg = /'([^']*)'/.exec(message)?.[1] ?? "";
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return `unknown flag ${flag}`;
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") return `unexpected argument '${arg}'`;
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    if (message.includes("does not take an argument")) return `${flag} takes no value`;
    if (message.includes("ambiguous")) {
      return `${flag} needs a value (write ${flag}=VALUE for one starting with '-')`;
    }
    return `${flag} needs a value`;
  }
  return message.split("\n")[0];
}
