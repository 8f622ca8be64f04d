/** Read-only overview tools: skim_files (heads of files), skim_folders (tree), analyze_code (outline). */
import { bool, int, list, str } from "./args.ts";
import { type Tool, ToolError } from "./types.ts";
import { readText, walk } from "./walk.ts";
import { displayPath, openWorkspace, resolveInWorkspace } from "./workspace.ts";

export const skimFiles: Tool = {
  safe: true,
  spec: {
    name: "skim_files",
    toolset: "files",
    description: "Show the first lines of several files at once.",
    parameters: {
      paths: {
        type: "array",
        items: { type: "string" },
        description: "File paths, relative to the workspace",
      },
      head_lines: { type: "integer", description: "Lines to show per file", default: 25 },
    },
  },
  async run(args, ctx) {
    const workspace = await openWorkspace(ctx.workspaceRoot);
    const paths = list(args, "paths", []);
    if (!paths.length) throw new ToolError('Missing required argument "paths"');
    const head = Math.max(1, int(args, "head_lines", 25));
    const parts: string[] = [];
    for (const requested of paths.slice(0, 20)) {
      const path = await resolveInWorkspace(workspace, requested);
      const text = await readText(path).catch(() => null);
      if (text === null) {
        parts.push(`== ${requested}: not a readable text file`);
        continue;
      }
      const lines = text.split("\n");
      parts.push(
        `== ${displayPath(workspace, path)} (${lines.length} lines)\n${lines.slice(0, head).join("\n")}`,
      );
    }
    return parts.join("\n\n");
  },
};

export const skimFolders: Tool = {
  safe: true,
  spec: {
    name: "skim_folders",
    toolset: "files",
    description: "Overview of folder trees: directories with their file counts, down to a depth.",
    parameters: {
      paths: { type: "array", items: { type: "string" }, description: "Folders to skim", default: ["."] },
      depth: { type: "integer", description: "Levels to descend", default: 2 },
      include_hidden: { type: "boolean", description: "Include entries starting with '.'", default: false },
    },
  },
  async run(args, ctx) {
    const workspace = await openWorkspace(ctx.workspaceRoot);
    const depth = Math.max(1, int(args, "depth", 2));
    const parts: string[] = [];
    for (const requested of list(args, "paths", ["."]).slice(0, 10)) {
      const dir = await resolveInWorkspace(workspace, requested);
      const info = await Deno.stat(dir).catch(() => null);
      if (!info?.isDirectory) {
        parts.push(`${requested}: not a directory`);
        continue;
      }
      const entries = await walk(dir, {
        maxDepth: depth,
        includeHidden: bool(args, "include_hidden", false),
        limit: 5000,
      });
      const lines = entries.map((e) =>
        `${"  ".repeat(e.rel.split("/").length - 1)}${e.rel.split("/").pop()}${e.isDirectory ? "/" : ""}`
      );
      parts.push(
        `${displayPath(workspace, dir)}/ (${entries.length} entries)\n${lines.slice(0, 300).join("\n")}`,
      );
    }
    return parts.join("\n\n");
  },
};

const OUTLINE =
  /^\s*(export\s+)?(default\s+)?(async\s+)?(def|class|function|interface|type|const|let|struct|enum|impl|fn|func|pub\s+fn|module)\b/;

export const analyzeCode: Tool = {
  safe: true,
  spec: {
    name: "analyze_code",
    toolset: "files",
    description:
      "Outline a source file: classes, functions and top-level declarations with their line numbers.",
    parameters: { file_path: { type: "string", description: "Source file, relative to the workspace" } },
  },
  async run(args, ctx) {
    const workspace = await openWorkspace(ctx.workspaceRoot);
    const path = await resolveInWorkspace(workspace, str(args, "file_path"));
    const text = await readText(path).catch(() => null);
    if (text === null) throw new ToolError(`Not a readable text file: ${str(args, "file_path")}`);
    const lines = text.split("\n");
    const outline = lines.flatMap((line, i) =>
      OUTLINE.test(line) ? [`${String(i + 1).padStart(5)}: ${line.trim().slice(0, 160)}`] : []
    );
    return `Outline of ${
      displayPath(workspace, path)
    } (${lines.length} lines, ${outline.length} declarations):\n${outline.join("\n")}`;
  },
};
