/**
 * execute_command: runs `sh -c <command>` in the workspace when this process may start
 * subprocesses. The default `gateway` permission set forbids it, so there it is a clear tool error.
 */
import { int, str } from "./args.ts";
import { type Tool, ToolError } from "./types.ts";
import { openWorkspace, resolveInWorkspace } from "./workspace.ts";

export const executeCommand: Tool = {
  safe: false,
  spec: {
    name: "execute_command",
    toolset: "system",
    description: "Run a shell command in the workspace and return its exit code, stdout and stderr.",
    parameters: {
      command: { type: "string", description: "Shell command line" },
      working_directory: {
        type: "string",
        description: "Directory, relative to the workspace",
        default: ".",
      },
      timeout: { type: "integer", description: "Seconds before the command is killed", default: 60 },
    },
  },
  unavailable: (ctx) =>
    ctx.canRun()
      ? null
      : "execute_command is not available in this deployment: the gateway's permission sandbox does not allow running processes",
  async run(args, ctx) {
    const command = str(args, "command");
    const cwd = await resolveInWorkspace(
      await openWorkspace(ctx.workspaceRoot),
      str(args, "working_directory", "."),
    );
    const timeoutS = Math.min(3600, Math.max(1, int(args, "timeout", 60)));
    const timeout = AbortSignal.timeout(timeoutS * 1000);
    const child = new Deno.Command("sh", {
      args: ["-c", command],
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

/** True when this process holds the `run` permission (never prompts). */
export function runPermitted(): boolean {
  return Deno.permissions.querySync({ name: "run", command: "sh" }).state === "granted";
}
