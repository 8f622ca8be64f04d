/** The shipped systemd units must be accepted by `systemd-analyze verify`. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT } from "../helpers/paths.ts";

const UNITS_DIR = join(REPO_ROOT, "docs", "systemd");
const BINARY = "/usr/local/bin/gateway";

async function hasSystemdAnalyze(): Promise<boolean> {
  try {
    return (await new Deno.Command("systemd-analyze", { args: ["--version"], stdout: "null", stderr: "null" })
      .output())
      .success;
  } catch {
    return false;
  }
}

const units = [...Deno.readDirSync(UNITS_DIR)].filter((e) => e.name.endsWith(".service")).map((e) => e.name)
  .sort();

Deno.test("docs/systemd ships the single-node unit and the split API/runner pair", () => {
  assert.deepEqual(units, ["gateway-api.service", "gateway-runner.service", "gateway.service"]);
});

Deno.test({
  name: "systemd-analyze verify accepts every unit (binary path pointed at a stand-in)",
  ignore: !(await hasSystemdAnalyze()),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      // verify checks that ExecStart's binary exists; everything else in the unit is verified as shipped.
      const standIn = join(dir, "gateway");
      await Deno.writeTextFile(standIn, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
      for (const name of units) {
        const text = await Deno.readTextFile(join(UNITS_DIR, name));
        assert.ok(text.includes(BINARY), `${name} starts ${BINARY}`);
        for (
          const directive of [
            "DynamicUser=yes",
            "StateDirectory=gateway",
            // The binary's permissions are relative to the directory it starts in: the state directory.
            "WorkingDirectory=%S/gateway",
            "ProtectSystem=strict",
            "NoNewPrivileges=yes",
            "Restart=on-failure",
            "LimitNOFILE=",
          ]
        ) {
          assert.ok(text.includes(directive), `${name} has ${directive}`);
        }
        const unit = join(dir, name);
        await Deno.writeTextFile(unit, text.replaceAll(BINARY, standIn));
        const out = await new Deno.Command("systemd-analyze", { args: ["verify", unit] }).output();
        const messages = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
        assert.equal(out.code, 0, `${name}: ${messages}`);
        assert.equal(messages.trim(), "", `${name} verifies without warnings`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
