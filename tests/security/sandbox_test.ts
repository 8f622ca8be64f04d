/**
 * The `gateway` permission set of deno.json is the outer wall: under it, a process cannot read or write
 * outside ./data and ./bundles, cannot run subprocesses, cannot reach the cloud metadata address (other
 * hosts are confined in-process by src/security/outbound.ts), and cannot read env vars outside the
 * allow-list. Symlinks planted in the data dir are followed by Deno itself, so the
 * probe also shows that `realPathInside` (used before serving files) refuses them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT, sandboxTempDir } from "../helpers/paths.ts";

Deno.test("the gateway permission set confines reads, writes, subprocesses, network and env", async () => {
  const dataDir = await sandboxTempDir("sandbox-");
  const outsideDir = await Deno.makeTempDir({ prefix: "gw-outside-" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const outsideFile = join(outsideDir, "secret.txt");
    await Deno.writeTextFile(outsideFile, "outside secret");
    await Deno.writeTextFile(join(dataDir, "inside.txt"), "inside");
    await Deno.symlink(outsideFile, join(dataDir, "link.txt"));
    await Deno.symlink(outsideDir, join(dataDir, "linkdir"));
    const accepted = listener.accept().then((conn) => conn.close());

    const input = { dataDir, outsideDir, outsideFile, loopbackPort: (listener.addr as Deno.NetAddr).port };
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-P=gateway", "--no-prompt", "tests/security/probe_sandbox.ts", JSON.stringify(input)],
      cwd: REPO_ROOT,
      env: { PROBE_SECRET: "do-not-leak", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const r: Record<string, string> = JSON.parse(new TextDecoder().decode(out.stdout));
    await accepted;

    assert.equal(r.read_inside, "ok");
    assert.equal(r.write_inside, "ok");
    assert.equal(r.read_inside_guarded, "ok");
    assert.equal(r.connect_loopback, "ok");
    assert.equal(r.env_outside_allow_list, "ok");
    for (const denied of ["read_outside", "read_etc_passwd", "read_traversal", "write_outside"]) {
      assert.match(r[denied], /^NotCapable: Requires (read|write) access/, denied);
    }
    assert.match(r.run_subprocess, /^NotCapable: Requires run access/);
    assert.notEqual(r.run_node_child_process, "ok");
    for (const marker of ["ran-deno", "ran-node"]) {
      await assert.rejects(
        Deno.stat(join(outsideDir, marker)),
        Deno.errors.NotFound,
        `${marker}: a command ran`,
      );
    }
    assert.match(r.connect_metadata_ip, /^NotCapable: Requires net access to "169\.254\.169\.254:80"/);
    assert.match(
      r.fetch_unnamed_host,
      /^OutboundRefusedError: Cannot connect to example\.com:80: not a host named/,
    );
    // The caveat, measured: Deno follows the link …
    assert.equal(r.read_symlink_raw, "ok");
    // … and the guard refuses it.
    assert.match(r.read_symlink_guarded, /^PathEscapeError: /);
    assert.match(r.read_symlinked_dir_guarded, /^PathEscapeError: /);
    assert.equal(await Deno.readTextFile(outsideFile), "outside secret");
    await assert.rejects(Deno.stat(join(outsideDir, "w.txt")), Deno.errors.NotFound);
  } finally {
    listener.close();
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(outsideDir, { recursive: true });
  }
});
