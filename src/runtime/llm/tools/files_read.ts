/** Read-only file tools (auto-run in approval mode): list_files, read_file, search_files. */
import type { JsonObject } from "../../types.ts";
import { bool, globRegExp, int, str } from "./args.ts";
import { type Tool, type ToolContext, ToolError } from "./types.ts";
import { readText, walk } from "./walk.ts";
import { displayPath, openWorkspace, resolveInWorkspace, type Workspace } from "./workspace.ts";

const MAX_READ_LINES = 2000;

async function directory(args: JsonObject, ctx: ToolContext, name: string): Promise<[Workspace, string]> {
  const workspace = await openWorkspace(ctx.workspaceRoot);
  const dir = await resolveInWorkspace(workspace, str(args, name, "."));
  const info = await Deno.stat(dir).catch(() => null);
  if (!info?.isDirectory) throw new ToolError(`Directory not found: ${str(args, name, ".")}`);
  return [workspace, dir];
}

export const listFiles: Tool = {
  safe: true,
  spec: {
    name: "list_files",
    toolset: "files",
    description:
      "List files and directories by name using glob patterns (case-insensitive; `|` separates patterns).",
    when_to_use: "To find files by name or extension (not by content).",
    parameters: {
      directory_path: {
        type: "string",
        description: "Directory to list, relative to the workspace",
        default: ".",
      },
      pattern: { type: "string", description: "Glob pattern(s), e.g. '*.py|*.md'", default: "*" },
      recursive: { type: "boolean", description: "Include subdirectories", default: false },
      include_hidden: { type: "boolean", description: "Include entries starting with '.'", default: false },
      head_limit: { type: "integer", description: "Maximum entries to return", default: 50 },
    },
  },
  async run(args, ctx) {
    const [workspace, dir] = await directory(args, ctx, "directory_path");
    const matcher = globRegExp(str(args, "pattern", "*"));
    const limit = Math.max(1, int(args, "head_limit", 50));
    const entries = await walk(dir, {
      maxDepth: bool(args, "recursive", false) ? 32 : 1,
      includeHidden: bool(args, "include_hidden", false),
      limit: 20_000,
    });
    const matches = entries.filter((e) => matcher.test(e.rel.split("/").pop() ?? ""));
    const shown = matches.slice(0, limit).map((e) => `  ${e.rel}${e.isDirectory ? "/" : ""}`);
    const where = displayPath(workspace, dir);
    if (!matches.length) return `No entries in '${where}' match '${str(args, "pattern", "*")}'`;
    const count = matches.length > limit ? `showing ${limit} of ${matches.length}` : `${matches.length}`;
    return `Entries in '${where}' (${count}):\n${shown.join("\n")}`;
  },
};

export const readFile: Tool = {
  safe: true,
  spec: {
    name: "read_file",
    toolset: "files",
    description: "Read a text file (optionally a line range); lines are numbered.",
    parameters: {
      file_path: { type: "string", description: "File path, relative to the workspace" },
      start_line: { type: "integer", description: "First line to read (1-based)", default: 1 },
      end_line: {
        type: "integer",
        description: "Last line to read (inclusive; default: end of file)",
        default: null,
      },
    },
  },
  async run(args, ctx) {
    const workspace = await openWorkspace(ctx.workspaceRoot);
    const path = await resolveInWorkspace(workspace, str(args, "file_path"));
    const text = await readText(path).catch((error) => {
      if (error instanceof Deno.errors.NotFound) {
        throw new ToolError(`File not found: ${str(args, "file_path")}`);
      }
      throw error;
    });
    if (text === null) {
      throw new ToolError(
        `Not a readable text file (binary, directory or over 2 MB): ${str(args, "file_path")}`,
      );
    }
    const lines = text.split("\n");
    if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
    const start = Math.max(1, int(args, "start_line", 1));
    const requestedEnd = int(args, "end_line", lines.length);
    const end = Math.min(lines.length, requestedEnd, start + MAX_READ_LINES - 1);
    const body = lines.slice(start - 1, end).map((line, i) => `${String(start + i).padStart(5)}: ${line}`);
    const more = end < Math.min(lines.length, requestedEnd)
      ? `\n… truncated at line ${end}; read on with start_line=${end + 1}`
      : "";
    return `File: ${displayPath(workspace, path)} (${lines.length} lines, showing ${start}-${end})\n${
      body.join("\n")
    }${more}`;
  },
};

export const searchFiles: Tool = {
  safe: true,
  spec: {
    name: "search_files",
    toolset: "files",
    description: "Search file contents with a regular expression; prints matching lines as path:line: text.",
    when_to_use: "To find where something is defined or used (by content).",
    parameters: {
      pattern: { type: "string", description: "Regular expression to search for" },
      path: {
        type: "string",
        description: "Directory (or file) to search, relative to the workspace",
        default: ".",
      },
      file_pattern: {
        type: "string",
        description: "Glob filter on file names, e.g. '*.ts|*.py'",
        default: "*",
      },
      case_sensitive: { type: "boolean", description: "Match case", default: false },
      head_limit: { type: "integer", description: "Maximum matching lines", default: 50 },
    },
  },
  async run(args, ctx) {
    const workspace = await openWorkspace(ctx.workspaceRoot);
    const target = await resolveInWorkspace(workspace, str(args, "path", "."));
    let regex: RegExp;
    try {
      regex = new RegExp(str(args, "pattern"), bool(args, "case_sensitive", false) ? "" : "i");
    } catch (error) {
      throw new ToolError(`Invalid regular expression: ${(error as Error).message}`);
    }
    const info = await Deno.stat(target).catch(() => null);
    if (!info) throw new ToolError(`Path not found: ${str(args, "path", ".")}`);
    const files = info.isDirectory
      ? (await walk(target, { maxDepth: 32, includeHidden: false, limit: 20_000 })).filter((e) =>
        !e.isDirectory
      )
      : [{ path: target, rel: displayPath(workspace, target), isDirectory: false }];
    const matcher = globRegExp(str(args, "file_pattern", "*"));
    const limit = Math.max(1, int(args, "head_limit", 50));
    const hits: string[] = [];
    let total = 0;
    for (const file of files) {
      if (!matcher.test(file.path.split(/[\\/]/).pop() ?? "")) continue;
      const text = await readText(file.path).catch(() => null);
      if (text === null) continue;
      text.split("\n").forEach((line, i) => {
        if (!regex.test(line)) return;
        total++;
        if (hits.length < limit) {
          hits.push(`${displayPath(workspace, file.path)}:${i + 1}: ${line.slice(0, 300)}`);
        }
      });
    }
    if (!total) return `No matches for /${str(args, "pattern")}/`;
    return `${total} match${total === 1 ? "" : "es"}${total > limit ? ` (showing ${limit})` : ""}:\n${
      hits.join("\n")
    }`;
  },
};
