/**
 * Paths and addresses the process may not use are refused at start, under the `gateway` permission set:
 * exit 2 and one line naming the path, what the binary may touch and the fix, never Deno's
 * "run again with --allow-*" advice. Real subprocesses of main.ts; the refused paths are in the system
 * temp dir, outside ./data and ./bundles.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { childEnv, spawnGateway } from "../helpers/gateway_process.ts";
import { freePort } from "../helpers/free_port.ts";
import { MAIN_TS, OUR_BUNDLES, REPO_ROOT, sandboxTempDir } from "../helpers/paths.ts";

const outside = await Deno.makeTempDir({ prefix: "gw-preflight-" });
globalThis.addEventListener("unload", () => Deno.removeSync(outside, { recursive: true }));
const bundleOutside = join(outside, "hello.flow");
await Deno.copyFile(join(OUR_BUNDLES, "hello@1.0.0.flow"), bundleOutside);
const TOKEN = { ABSTRACTGATEWAY_AUTH_TOKEN: "preflight-test-token-0123456789abcdef" };
/** The path cases must not depend on the default port being free on the machine running the tests. */
const SERVE = { ...TOKEN, ABSTRACTGATEWAY_PORT: String(freePort()) };

async function refused(args: string[], env: Record<string, string>, names: string) {
  const out = await spawnGateway(args, env).output();
  const stderr = new TextDecoder().decode(out.stderr).trim();
  assert.equal(out.code, 2, stderr);
  assert.equal(stderr.split("\n").length, 1, `one line: ${stderr}`);
  assert.ok(stderr.includes(names), `names ${names}: ${stderr}`);
  assert.match(stderr, /may (read|listen on) |not on this machine/);
  assert.match(stderr, /Fix: /);
  assert.doesNotMatch(stderr, /run again|--allow-/);
  return stderr;
}

const cases: [string, string[], Record<string, string>, string][] = [
  ["serve with a data dir outside", ["serve", "--data-dir", outside], SERVE, `data dir ${outside}`],
  ["serve with a flows dir outside", ["serve", "--flows-dir", outside], SERVE, `flows dir ${outside}`],
  ["serve on an address it may not listen on", ["serve", "--host", "10.0.0.5"], TOKEN, "10.0.0.5:8080"],
  [
    "runner with a data dir outside",
    ["runner"],
    { ABSTRACTGATEWAY_DATA_DIR: outside },
    `data dir ${outside}`,
  ],
  ["migrate with a data dir outside", ["migrate", "--data-dir", outside], {}, `data dir ${outside}`],
  [
    "bundle list with a flows dir outside",
    ["bundle", "list", "--flows-dir", outside],
    {},
    `flows dir ${outside}`,
  ],
  [
    "bundle validate of a file outside",
    ["bundle", "validate", bundleOutside],
    {},
    `bundle file ${bundleOutside}`,
  ],
  [
    "serve with tooling on and a workspace outside",
    ["serve"],
    { ...SERVE, ABSTRACTGATEWAY_ENABLE_TOOLING: "1", ABSTRACTGATEWAY_WORKSPACE_DIR: outside },
    `workspace dir ${outside}`,
  ],
];

for (const [name, args, env, names] of cases) {
  Deno.test(`preflight: ${name} exits 2 with one line`, async () => {
    await refused(args, env, names);
  });
}

Deno.test("preflight: a bind address outside the net permission exits 2 with one line", async () => {
  const flags = ["--allow-read=./data,./bundles", "--allow-write=./data,./bundles", "--allow-net=127.0.0.1"];
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", ...flags, "--allow-env", "--no-prompt", MAIN_TS, "serve", "--host", "0.0.0.0"],
    cwd: REPO_ROOT,
    env: childEnv(TOKEN),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr).trim();
  assert.equal(out.code, 2, stderr);
  assert.equal(
    stderr,
    "gateway serve: Cannot listen on 0.0.0.0:8080: not permitted to use that address; this binary may listen " +
      "on 127.0.0.1. Fix: set ABSTRACTGATEWAY_HOST (--host) to one of them (0.0.0.0 for every interface, " +
      "with a token) and put a reverse proxy in front for other addresses",
  );
});

Deno.test("preflight: a refused data dir names what the binary may touch", async () => {
  const line = await refused(["migrate", "--data-dir", outside], {}, outside);
  assert.ok(line.includes("may read ./data, ./bundles and write ./data, ./bundles"), line);
  assert.ok(line.includes(REPO_ROOT.replace(/\/$/, "")), line);
});

Deno.test("preflight: `bundle validate -` checks a bundle the binary may not open, read from stdin", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-P=gateway", "--no-prompt", MAIN_TS, "bundle", "validate", "-"],
    cwd: REPO_ROOT,
    env: childEnv({}),
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const file = await Deno.open(bundleOutside);
  await file.readable.pipeTo(child.stdin);
  const out = await child.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(new TextDecoder().decode(out.stdout), /^ok -: hello@1\.0\.0 \(1 flows\)/);
});

Deno.test("preflight: `runner --metrics-port` on a taken port exits 2 with one line, before the runner starts", async () => {
  const data = await sandboxTempDir("preflight-metrics-");
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    const out = await spawnGateway(["runner", "--metrics-port", String(port)], {
      ...TOKEN,
      ABSTRACTGATEWAY_DATA_DIR: data,
      ABSTRACTGATEWAY_LOG_LEVEL: "info",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr).trim();
    assert.equal(out.code, 2, stderr);
    assert.equal(
      stderr,
      `gateway runner: Cannot listen on 127.0.0.1:${port}: the port is already in use. Fix: stop the other ` +
        "process or set ABSTRACTGATEWAY_RUNNER_METRICS_PORT (--metrics-port)",
    );
    assert.equal(new TextDecoder().decode(out.stdout), "", "the runner never started");
    assert.equal(await Deno.stat(join(data, "gateway_runner.lock")).catch(() => null), null);
  } finally {
    taken.close();
    await Deno.remove(data, { recursive: true });
  }
});
