/** File-changing tools (need approval in approval mode): write_file, edit_file. */
import { dirname } from "node:path";
import { bool, int, str } from "./args.ts";
import { type Tool, ToolError } from "./types.ts";
import { displayPath, openWorkspace, resolveInWorkspace } from "./workspace.ts";

export const writeFile: Tool = {
  safe: false,
  spec: {
    name: "write_file",
    toolset: "files",
    description: "Create or overwrite a text file (or append to it); parent directories are created.",
    parameters: {
      file_path: { type: "string", description: "File path, relative to the workspace" },
      content: { type: "string", description: "Text to write" },
      mode: { type: "string", description: "'w' to overwrite, 'a' to append", default: "w" },
      create_dirs: { type: "boolean", description: "Create missing parent directories", default: true },
    },
  },
  async run(args, ctx) {
    const workspace = await openWorkspace(ctx.workspaceRoot);
    const path = await resolveInWorkspace(workspace, str(args, "file_path"));
    const content = str(args, "content", "");
    const mode = str(args, "mode", "w");
    if (mode !== "w" && mode !== "a") throw new ToolError(`mode must be 'w' or 'a', got '${mode}'`);
    if (bool(args, "create_dirs", true)) await Deno.mkdir(dirname(path), { recursive: true });
    await Deno.writeTextFile(path, content, { append: mode === "a" });
    const bytes = new TextEncoder().encode(content).length;
    return `${mode === "a" ? "Appended" : "Wrote"} ${bytes} bytes to ${displayPath(workspace, path)}`;
  },
};

export const editFile: Tool = {
  safe: false,
  spec: {
    name: "edit_file",
    toolset: "files",
    description: "Replace exact text in a file (literal match, not a regex).",
    when_to_use: "For targeted changes; read the file first to copy the exact text to replace.",
    parameters: {
      file_path: { type: "string", description: "File path, relative to the workspace" },
      pattern: { type: "string", description: "Exact text to find" },
      replacement: { type: "string", description: "Text to put instead" },
      max_replacements: { type: "integer", description: "Maximum replacements (-1 = all)", default: -1 },
    },
  },
  async run(args, ctx) {
    const workspace = await openWorkspace(ctx.workspaceRoot);
    const path = await resolveInWorkspace(workspace, str(args, "file_path"));
    const pattern = str(args, "pattern");
    if (!pattern) throw new ToolError('Argument "pattern" must not be empty');
    const replacement = str(args, "replacement", "");
    const max = int(args, "max_replacements", -1);
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new ToolError(`File not found: ${str(args, "file_path")}`);
      }
      throw error;
    }
    const pieces = text.split(pattern);
    const found = pieces.length - 1;
    if (!found) throw new ToolError(`Text to replace not found in ${displayPath(workspace, path)}`);
    const count = max < 0 ? found : Math.min(max, found);
    const head = pieces.slice(0, count + 1).join(replacement);
    const edited = [head, ...pieces.slice(count + 1)].join(pattern);
    await Deno.writeTextFile(path, edited);
    return `Edited ${displayPath(workspace, path)}: ${count} replacement${count === 1 ? "" : "s"}`;
  },
};
