/** Tools under a real Deno permission sandbox (subprocess): refusals become tool errors, never crashes. */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { JsonObject } from "../../../src/runtime/types.ts";
import { scratchDir } from "./support.ts";

Deno.test("sandboxed tools: NotCapable and missing run permission are clear tool errors", async () => {
  const allowed = await scratchDir("sandbox-ok-");
  const forbidden = await scratchDir("sandbox-no-");
  try {
    await Deno.writeTextFile(join(allowed, "a.txt"), "a");
    await Deno.writeTextFile(join(forbidden, "x.txt"), "x");
    const probe = new URL("./sandbox_probe.ts", import.meta.url).pathname;
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        `--allow-read=${allowed}`,
        `--allow-write=${allowed}`,
        "--allow-net=127.0.0.1",
        probe,
        allowed,
        forbidden,
        "http://example.com/",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    const { inside, outside } = JSON.parse(new TextDecoder().decode(output.stdout));
    const [list, exec, fetched] = inside.result.results as JsonObject[];
    assert.equal(list.success, true);
    assert.match(String(list.output), /a\.txt/);
    assert.equal(exec.success, false);
    assert.match(String(exec.error), /^execute_command is not available in this deployment/);
    assert.equal(fetched.success, false);
    assert.match(String(fetched.error), /^Refused by the gateway's permission sandbox: .*example\.com/);
    const [read] = outside.result.results as JsonObject[];
    assert.equal(read.success, false);
    assert.match(String(read.error), /^Refused by the gateway's permission sandbox/);
  } finally {
    await Deno.remove(allowed, { recursive: true });
    await Deno.remove(forbidden, { recursive: true });
  }
});
