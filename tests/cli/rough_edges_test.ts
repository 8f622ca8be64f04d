/** CLI details through the real entry: version flags, per-command help, usage wording, ports, completions. */
import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import { runGateway } from "../helpers/gateway_process.ts";
import { sandboxTempDir } from "../helpers/paths.ts";

Deno.test("version --json, -V, and a bad flag to version", async () => {
  const json = await runGateway(["version", "--json"]);
  assert.equal(json.code, 0);
  const v = JSON.parse(json.stdout);
  assert.equal(v.gateway, denoJson.version);
  assert.match(v.deno, /^2\.9\./);
  const short = await runGateway(["-V"]);
  assert.equal(short.code, 0);
  assert.match(short.stdout, new RegExp(`^gateway ${denoJson.version.replaceAll(".", "\\.")} \\(deno `));
  const bad = await runGateway(["version", "--bogus"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^gateway version: unknown flag --bogus/);
});

Deno.test("help <command> and <command> --help print that command's help", async () => {
  const help = await runGateway(["help", "serve"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: gateway serve/);
  assert.equal((await runGateway(["serve", "--help"])).stdout, help.stdout);
  const runs = await runGateway(["help", "runs"]);
  assert.match(runs.stdout, /gateway runs answer <run_id> <response>/);
});

Deno.test("usage errors are in our words, never the parser's", async () => {
  const ambiguous = await runGateway(["tail", "--after", "-3", "x"]);
  assert.equal(ambiguous.code, 2);
  assert.match(ambiguous.stderr, /--after needs a value/);
  assert.doesNotMatch(ambiguous.stderr, /ambiguous|positional/);
  const extra = await runGateway(["runs", "list", "extra"]);
  assert.equal(extra.code, 2);
  assert.match(extra.stderr, /unexpected argument 'extra'/);
});

Deno.test("a port in use is named", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const data = await sandboxTempDir("port-");
  try {
    const port = String(taken.addr.port);
    const out = await runGateway(["serve", "--port", port], {
      ABSTRACTGATEWAY_DATA_DIR: data,
      ABSTRACTGATEWAY_AUTH_TOKEN: "port-test-token-0123456789abcdef",
    });
    assert.equal(out.code, 2, "refused by the start-time bind check");
    assert.match(
      out.stderr,
      new RegExp(`Cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use`),
    );
  } finally {
    taken.close();
    await Deno.remove(data, { recursive: true });
  }
});

Deno.test("completions for bash, zsh and fish", async () => {
  for (const shell of ["bash", "zsh", "fish"]) {
    const out = await runGateway(["completions", shell]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /runs/);
    assert.match(out.stdout, /answer/);
  }
  const bash = (await runGateway(["completions", "bash"])).stdout;
  // The script parses, and completes `gateway ru` and `gateway runs a`.
  const probe = `${bash}
COMP_WORDS=(gateway ru); COMP_CWORD=1; _gateway; echo "\${COMPREPLY[@]}"
COMP_WORDS=(gateway runs a); COMP_CWORD=2; _gateway; echo "\${COMPREPLY[@]}"`;
  const run = await new Deno.Command("bash", { args: ["-c", probe], stdout: "piped", stderr: "piped" })
    .output();
  const lines = new TextDecoder().decode(run.stdout).trim().split("\n");
  assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
  assert.deepEqual(lines, ["runner runs", "answer"]);
  assert.equal((await runGateway(["completions", "powershell"])).code, 2);
});
