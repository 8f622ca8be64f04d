/**
 * execute_command under the real permission sets of deno.json, in a subprocess: `gateway-commands`
 * lets the listed executables run (only /bin/echo as shipped), `gateway` runs nothing, and the
 * setting ABSTRACTGATEWAY_TOOL_COMMANDS decides what the tool offers.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { JsonObject } from "../../../src/runtime/types.ts";
import { childEnv } from "../../helpers/gateway_process.ts";
import { REPO_ROOT, sandboxTempDir } from "../../helpers/paths.ts";

const PROBE = new URL("./commands_probe.ts", import.meta.url).pathname;

async function probe(
  set: string,
  env: Record<string, string>,
  commands: string[],
): Promise<{ status: string; results: JsonObject[] }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", `-P=${set}`, "--no-prompt", PROBE, ...commands],
    cwd: REPO_ROOT,
    env: childEnv(env),
    clearEnv: true,
    stdin: "null",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
}

Deno.test("execute_command: -P=gateway-commands runs the allowlisted /bin/echo and refuses the rest", async () => {
  const dir = await sandboxTempDir("commands-");
  try {
    await Deno.mkdir(join(dir, "ws"));
    const env = {
      ABSTRACTGATEWAY_DATA_DIR: dir,
      ABSTRACTGATEWAY_TOOL_COMMANDS: "/bin/echo,/bin/cat",
      ABSTRACTGATEWAY_TOOL_MODE: "local",
    };
    const enabled = await probe("gateway-commands", env, [
      "echo 'hello world' again",
      "/bin/cat /etc/hostname",
      "ls",
      "echo hi > out.txt",
    ]);
    assert.equal(enabled.status, "completed");
    assert.deepEqual(enabled.results.map((r) => [r.success, r.success ? r.output : r.error]), [
      [true, "exit code: 0\nstdout:\nhello world again\n\nstderr:\n"],
      // listed by the setting, but the permission set does not name it: the sandbox has the last word
      [false, "Cannot run /bin/cat: the gateway's permission sandbox does not allow it"],
      [
        false,
        "Cannot run ls: not an allowed executable (ABSTRACTGATEWAY_TOOL_COMMANDS: /bin/echo, /bin/cat)",
      ],
      [
        false,
        "Cannot run command: shell syntax '>' is not supported " +
        "(one allowlisted program with its arguments runs, without a shell)",
      ],
    ]);

    // The default set runs nothing: the tool reports it, and approval mode asks nobody.
    const sandboxed = await probe("gateway", { ...env, ABSTRACTGATEWAY_TOOL_MODE: "approval" }, ["echo hi"]);
    assert.equal(sandboxed.status, "completed", "not sent for human approval");
    assert.equal(
      sandboxed.results[0].error,
      "execute_command is not available in this deployment: the gateway's permission sandbox does not allow " +
        "running /bin/echo, /bin/cat (start it with the gateway-commands permission set)",
    );

    // Off by default: without the setting the tool is unavailable even where echo could run.
    const off = await probe("gateway-commands", { ABSTRACTGATEWAY_DATA_DIR: dir }, ["echo hi"]);
    assert.equal(off.status, "completed", "not sent for human approval");
    assert.equal(
      off.results[0].error,
      "execute_command is not available in this deployment: the operator has not enabled it " +
        "(ABSTRACTGATEWAY_TOOL_COMMANDS)",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
