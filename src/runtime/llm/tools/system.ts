/**
 * execute_command: runs one program from the operator's allowlist (ABSTRACTGATEWAY_TOOL_COMMANDS)
 * with its arguments in the workspace — never a shell. Off by default: without the setting, or
 * when the permission sandbox lets none of the listed executables run (the default `gateway` set
 * runs nothing; `gateway-commands` names them), the tool is unavailable and nobody is asked to
 * approve it. The sandbox stays the outer wall: a listed program it refuses is a clear tool error.
 */
import { basename } from "node:path";
import { int, str } from "./args.ts";
import { splitCommandLine } from "./command_line.ts";
import { type Tool, type ToolContext, ToolError } from "./types.ts";
import { openWorkspace, resolveInWorkspace } from "./workspace.ts";

const SETTING = "ABSTRACTGATEWAY_TOOL_COMMANDS";

/** The allowlisted executable a command names: the same absolute path, or a listed program's name. */
function allowlisted(program: string, ctx: ToolContext): string {
  const match = program.includes("/")
    ? ctx.commands.find((c) => c === program)
    : ctx.commands.find((c) => basename(c) === program);
  if (match) return match;
  throw new ToolError(
    `Cannot run ${program}: not an allowed executable (${SETTING}: ${ctx.commands.join(", ")})`,
  );
}

export const executeCommand: Tool = {
  safe: false,
  spec: {
    name: "execute_command",
    toolset: "system",
    description: "Run one allowed program with its arguments in the workspace (no shell: no pipes, " +
      "redirections or variables) and return its exit code, stdout and stderr.",
    parameters: {
      command: { type: "string", description: "Program and arguments, quoted like a shell word list" },
      working_directory: {
        type: "string",
        description: "Directory, relative to the workspace",
        default: ".",
      },
      timeout: { type: "integer", description: "Seconds before the command is killed", default: 60 },
    },
  },
  unavailable: (ctx) =>
    !ctx.commands.length
      ? `execute_command is not available in this deployment: the operator has not enabled it (${SETTING})`
      : ctx.commands.some((c) => ctx.canRun(c))
      ? null
      : "execute_command is not available in this deployment: the gateway's permission sandbox does not allow " +
        `running ${ctx.commands.join(", ")} (start it with the gateway-commands permission set)`,
  async run(args, ctx) {
    const [program, ...argv] = splitCommandLine(str(args, "command"));
    const executable = allowlisted(program, ctx);
    if (!ctx.canRun(executable)) {
      throw new ToolError(`Cannot run ${executable}: the gateway's permission sandbox does not allow it`);
    }
    const cwd = await resolveInWorkspace(
      await openWorkspace(ctx.workspaceRoot),
      str(args, "working_directory", "."),
    );
    const timeoutS = Math.min(3600, Math.max(1, int(args, "timeout", 60)));
    const timeout = AbortSignal.timeout(timeoutS * 1000);
    const child = new Deno.Command(executable, {
      args: argv,
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout,
    });
    const result = await child.output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes).slice(-20_000);
    const output = `exit code: ${result.code}\nstdout:\n${decode(result.stdout)}\nstderr:\n${
      decode(result.stderr)
    }`;
    if (timeout.aborted) throw new ToolError(`Command timed out after ${timeoutS}s`, output);
    if (result.code !== 0) throw new ToolError(`Command exited with code ${result.code}`, output);
    return output;
  },
};

/** True when this process may start `executable` (never prompts). */
export function runPermitted(executable: string): boolean {
  return Deno.permissions.querySync({ name: "run", command: executable }).state === "granted";
}
