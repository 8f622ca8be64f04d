/**
 * The release binary carries no path of the build checkout and exactly the documented permission set.
 * Deno's `denort` runtime cannot be downloaded here, so the test compiles with DENORT_BIN pointing at the
 * `deno` executable itself: the output does not run, but holds the same embedded metadata (permissions,
 * flags) that a real build writes, which the test reads back.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import denoJson from "../../deno.json" with { type: "json" };
import { compileArgs, permissionFlags, TARGETS } from "../../release/flags.ts";
import { REPO_ROOT } from "../helpers/paths.ts";

/** The JSON object that starts at `{"argv":` in the compiled file (deno's standalone metadata). */
function embeddedMetadata(bytes: Buffer): Record<string, unknown> {
  const start = bytes.indexOf('{"argv":');
  assert.ok(start >= 0, "no embedded metadata found");
  let depth = 0, inString = false, escaped = false;
  for (let i = start; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 0x5c) escaped = true;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b) depth++;
    else if (c === 0x7d && --depth === 0) return JSON.parse(bytes.subarray(start, i + 1).toString("utf8"));
  }
  throw new Error("Cannot read the embedded metadata: unterminated JSON");
}

Deno.test("release: the compiled binary's metadata holds the documented, start-relative permission set", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gw-compile-" });
  try {
    const out = join(dir, "gateway");
    const res = await new Deno.Command(Deno.execPath(), {
      args: compileArgs(out),
      cwd: REPO_ROOT,
      env: { DENORT_BIN: Deno.execPath() },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(res.success, new TextDecoder().decode(res.stderr));
    const bytes = Buffer.from(await Deno.readFile(out));
    const checkout = REPO_ROOT.replace(/\/$/, "");
    assert.equal(bytes.indexOf(checkout), -1, `the build checkout path ${checkout} is in the binary`);

    const meta = embeddedMetadata(bytes);
    assert.equal(JSON.stringify(meta).includes(checkout), false);
    const p = meta.permissions as Record<string, unknown>;
    const granted = Object.fromEntries(Object.entries(p).filter(([, v]) => v !== null));
    // Exactly the set docs/security.md ("The permission sandbox") describes:
    assert.deepEqual(granted, {
      allow_read: ["./data", "./bundles"],
      allow_write: ["./data", "./bundles"],
      allow_net: [], // every host: outbound is confined in-process to the operator's named hosts
      deny_net: ["169.254.169.254"],
      allow_env: ["ABSTRACTGATEWAY_*", "GATEWAY_*", "LOG_LEVEL", "NO_COLOR"],
      ignore_env: [], // every other variable reads as unset
      allow_import: p.allow_import, // Deno's default remote-import hosts; the binary imports nothing remote
      prompt: false,
    });
    assert.equal(meta.entrypoint_key, "main.ts");
    assert.deepEqual(meta.argv, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("release: tasks, targets and docs use the same flags", async () => {
  assert.equal(denoJson.tasks.release, "deno run -A release/build.ts");
  assert.equal(denoJson.tasks.compile, "deno run -A release/build.ts --host");
  assert.deepEqual(Object.keys(TARGETS).sort(), [
    "aarch64-apple-darwin",
    "aarch64-unknown-linux-gnu",
    "x86_64-apple-darwin",
    "x86_64-pc-windows-msvc",
    "x86_64-unknown-linux-gnu",
  ]);
  const flags = permissionFlags().join(" ");
  assert.equal(
    flags,
    "--allow-read=./data,./bundles --allow-write=./data,./bundles --allow-net --deny-net=169.254.169.254 " +
      "--allow-env=ABSTRACTGATEWAY_*,GATEWAY_*,LOG_LEVEL,NO_COLOR --ignore-env",
  );
  const security = await Deno.readTextFile(join(REPO_ROOT, "docs", "security.md"));
  assert.ok(security.includes(flags), "docs/security.md quotes the release flags");
});
