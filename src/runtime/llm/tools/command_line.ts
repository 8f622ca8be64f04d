/**
 * Splits an execute_command line into argv without a shell: words separated by blanks, with '…'
 * (literal), "…" (backslash escapes \" \\ \$ \`) and backslash escapes outside quotes. Shell
 * operators outside quotes (pipes, lists, redirections, substitutions, globs, variables) are refused,
 * because the gateway starts exactly one allowlisted program and nothing interprets them.
 */
import { ToolError } from "./types.ts";

const OPERATORS = new Set(["|", "&", ";", "<", ">", "(", ")", "$", "`", "*", "?", "[", "{", "}", "~", "\n"]);

export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let i = 0;
  const append = (text: string) => word = (word ?? "") + text;
  while (i < line.length) {
    const c = line[i];
    if (c === " " || c === "\t") {
      if (word !== null) words.push(word);
      word = null;
      i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new ToolError("Cannot run command: unterminated ' quote");
      append(line.slice(i + 1, end));
      i = end + 1;
    } else if (c === '"') {
      i++;
      let text = "";
      while (i < line.length && line[i] !== '"') {
        if (line[i] === "\\" && '"\\$`'.includes(line[i + 1] ?? "")) i++;
        else if (line[i] === "$" || line[i] === "`") {
          throw new ToolError(
            `Cannot run command: '${line[i]}' substitutions need a shell, which is not used`,
          );
        }
        text += line[i++];
      }
      if (i >= line.length) throw new ToolError('Cannot run command: unterminated " quote');
      append(text);
      i++;
    } else if (c === "\\") {
      if (i + 1 >= line.length) throw new ToolError("Cannot run command: trailing backslash");
      append(line[i + 1]);
      i += 2;
    } else if (OPERATORS.has(c)) {
      throw new ToolError(
        `Cannot run command: shell syntax '${c === "\n" ? "\\n" : c}' is not supported ` +
          "(one allowlisted program with its arguments runs, without a shell)",
      );
    } else {
      append(c);
      i++;
    }
  }
  if (word !== null) words.push(word);
  if (!words.length) throw new ToolError("Cannot run command: the command line is empty");
  return words;
}
