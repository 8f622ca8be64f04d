/** `gateway config`: prints the effective configuration (flags > env > defaults), secrets masked. */
import { describeSettings, loadConfig, processEnv } from "../config/config.ts";
import { SETTINGS } from "../config/settings.ts";
import { parseFlags, settingFlags, settingFlagsHelp } from "./args.ts";

export const CONFIG_HELP = [
  "Usage: gateway config [--json] [flags]",
  "",
  "Prints every setting by its environment variable, its effective value (secrets masked) and where the",
  "value came from: flag, env, default or unset. Nothing is started.",
  "",
  "Flags:",
  "  --json             Print JSON: {VARIABLE: {value, source, flag?}}.",
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
  const env = processEnv();
  const shown = describeSettings(loadConfig(env, values), env, values);
  if (values.json) {
    const byName = Object.fromEntries(shown.map(({ env, ...rest }) => [env, rest]));
    console.log(JSON.stringify(byName, null, 2));
    return 0;
  }
  const text = (v: unknown) => v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v);
  const width = Math.max(...shown.map((s) => s.env.length));
  const valueWidth = Math.min(48, Math.max(...shown.map((s) => text(s.value).length)));
  for (const s of shown) {
    console.log(`${s.env.padEnd(width)}  ${text(s.value).padEnd(valueWidth)}  (${s.source})`);
  }
  return 0;
}
