/** `gateway completions bash|zsh|fish`: a completion script for the subcommands and their verbs. */
import { parseFlags, UsageError } from "./args.ts";

/** Second words of the subcommands that take one. */
const VERBS: Record<string, string[]> = {
  runs: ["list", "get", "start", "pause", "resume", "cancel", "answer"],
  commands: ["send", "get"],
  bundles: ["upload", "remove", "list", "inspect", "validate"],
  bundle: ["list", "inspect", "validate"],
  completions: ["bash", "zsh", "fish"],
  help: [],
};

function bash(commands: string[]): string {
  const cases = Object.entries(VERBS).filter(([, v]) => v.length)
    .map(([c, v]) => `    ${c}) COMPREPLY=($(compgen -W "${v.join(" ")}" -- "$cur")) ;;`);
  return [
    '# bash completion for gateway: eval "$(gateway completions bash)"',
    "_gateway() {",
    '  local cur="${COMP_WORDS[COMP_CWORD]}"',
    '  if [ "$COMP_CWORD" -eq 1 ]; then',
    `    COMPREPLY=($(compgen -W "${commands.join(" ")} help" -- "$cur")); return`,
    "  fi",
    '  if [ "$COMP_CWORD" -eq 2 ]; then',
    '    case "${COMP_WORDS[1]}" in',
    ...cases,
    `    help) COMPREPLY=($(compgen -W "${commands.join(" ")}" -- "$cur")) ;;`,
    "    esac",
    "  fi",
    '  [ "${cur#-}" != "$cur" ] && COMPREPLY=($(compgen -W "--help --json --url --token" -- "$cur"))',
    "}",
    "complete -o default -F _gateway gateway",
  ].join("\n");
}

function zsh(commands: string[]): string {
  const cases = Object.entries(VERBS).filter(([, v]) => v.length)
    .map(([c, v]) => `    ${c}) compadd ${v.join(" ")} ;;`);
  return [
    "#compdef gateway",
    '# zsh completion for gateway: gateway completions zsh > "${fpath[1]}/_gateway"',
    "_gateway() {",
    "  if (( CURRENT == 2 )); then",
    `    compadd ${commands.join(" ")} help`,
    "  elif (( CURRENT == 3 )); then",
    "    case $words[2] in",
    ...cases,
    `    help) compadd ${commands.join(" ")} ;;`,
    "    *) _files ;;",
    "    esac",
    "  else",
    "    _files",
    "  fi",
    "}",
    "compdef _gateway gateway",
  ].join("\n");
}

function fish(commands: string[]): string {
  return [
    "# fish completion for gateway: gateway completions fish > ~/.config/fish/completions/gateway.fish",
    `complete -c gateway -n __fish_use_subcommand -f -a "${commands.join(" ")} help"`,
    ...Object.entries(VERBS).filter(([, v]) => v.length).map(([c, v]) =>
      `complete -c gateway -n "__fish_seen_subcommand_from ${c}" -f -a "${v.join(" ")}"`
    ),
    `complete -c gateway -n "__fish_seen_subcommand_from help" -f -a "${commands.join(" ")}"`,
    "complete -c gateway -l help -s h -d 'Show help'",
    "complete -c gateway -l json -d 'JSON output'",
  ].join("\n");
}

const SHELLS: Record<string, (commands: string[]) => string> = { bash, zsh, fish };

export function completionsCommand(args: string[], commands: string[]): number {
  const { values, positionals } = parseFlags(args, {}, true);
  if (values.help) {
    console.log("Usage: gateway completions bash|zsh|fish   Print a completion script for that shell.");
    return 0;
  }
  const script = SHELLS[positionals[0] ?? ""];
  if (!script || positionals.length !== 1) throw new UsageError("expected one shell: bash, zsh or fish");
  console.log(script(commands));
  return 0;
}
