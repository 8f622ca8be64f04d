/** `gateway config`: prints the effective configuration (flags > env > defaults), secrets masked. */
import { describeConfig, loadConfig, processEnv } from "../config/config.ts";
import { SETTINGS } from "../config/settings.ts";
import { parseFlags, settingFlags, settingFlagsHelp } from "./args.ts";

export const CONFIG_HELP = [
  "Usage: gateway config [--json] [flags]",
  "",
  "Prints the effective configuration without starting anything. Secrets are masked.",
  "",
  "Flags:",
  "  --json             Print JSON instead of `key: value` lines.",
  ...settingFlagsHelp("config"),
  "",
  "Environment variables (all settings):",
  ...SETTINGS.map((s) => `  ${s.env.padEnd(40)} ${s.allowed}`),
].join("\n");

export function configCommand(args: string[]): number {
  const { values } = parseFlags(args, { json: { type: "boolean" }, ...settingFlags("config") });
  if (values.help) {
    console.log(CONFIG_HELP);
    return 0;
  }
  const shown = describeConfig(loadConfig(processEnv(), values));
  if (values.json) {
    console.log(JSON.stringify(shown, null, 2));
  } else {
    for (const [key, value] of Object.entries(shown)) {
      console.log(`${key}: ${value === undefined ? "(unset)" : JSON.stringify(value)}`);
    }
  }
  return 0;
}
