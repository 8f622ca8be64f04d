import assert from "node:assert/strict";
import { mainHelp } from "../../src/cli/main.ts";
import { runGateway } from "../helpers/gateway_process.ts";

const SUBCOMMANDS = [
  "serve",
  "runner",
  "migrate",
  "bundle",
  "runs",
  "commands",
  "bundles",
  "tail",
  "config",
  "version",
  "completions",
];

Deno.test("--help lists every subcommand", () => {
  const help = mainHelp();
  for (const name of SUBCOMMANDS) assert.match(help, new RegExp(`^  ${name} `, "m"));
});

Deno.test("every subcommand answers --help with exit 0 under the gateway permission set", async () => {
  for (const name of SUBCOMMANDS) {
    const { code, stdout, stderr } = await runGateway([name, "--help"]);
    assert.equal(code, 0, `${name} --help: ${stderr}`);
    if (name !== "version") assert.match(stdout, new RegExp(`Usage:\\s+gateway ${name}`), name);
  }
});

Deno.test("exit codes: unknown command and bad flag are usage errors (2)", async () => {
  const unknown = await runGateway(["frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  const badFlag = await runGateway(["config", "--no-such-flag"]);
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /no-such-flag/);
});

Deno.test("a bad env value exits 2 with one line naming the variable", async () => {
  const { code, stderr } = await runGateway(["config"], { ABSTRACTGATEWAY_MAX_SSE: "lots" });
  assert.equal(code, 2);
  assert.equal(stderr.trim().split("\n").length, 1);
  assert.match(stderr, /ABSTRACTGATEWAY_MAX_SSE="lots" is not valid: expected an integer >= 1/);
});

Deno.test("config prints every variable's effective value and source, secrets masked", async () => {
  const env = { ABSTRACTGATEWAY_AUTH_TOKEN: "a-very-secret-token-123456", ABSTRACTGATEWAY_PORT: "9911" };
  const { code, stdout } = await runGateway(["config", "--json", "--data-dir", "data/x"], env);
  assert.equal(code, 0);
  const shown = JSON.parse(stdout);
  assert.deepEqual(shown.ABSTRACTGATEWAY_PORT, { flag: "--port", value: 9911, source: "env" });
  assert.deepEqual(shown.ABSTRACTGATEWAY_AUTH_TOKEN, { value: "***", source: "env" });
  assert.equal(shown.ABSTRACTGATEWAY_DATA_DIR.source, "flag");
  assert.equal(shown.ABSTRACTGATEWAY_HOST.source, "default");
  assert.equal(shown.ABSTRACTGATEWAY_LLM_API_KEY.source, "unset");
  assert.ok(!stdout.includes("a-very-secret-token-123456"));
  const human = await runGateway(["config"], env);
  assert.match(human.stdout, /^ABSTRACTGATEWAY_PORT +9911 +\(env\)$/m);
  assert.match(human.stdout, /^ABSTRACTGATEWAY_HOST +127\.0\.0\.1 +\(default\)$/m);
  assert.ok(!human.stdout.includes("a-very-secret-token-123456"));
});

Deno.test("version prints ours and Deno's", async () => {
  const { code, stdout } = await runGateway(["version"]);
  assert.equal(code, 0);
  assert.match(stdout, /^gateway \d+\.\d+\.\d+ \(deno 2\.9\./);
});
