/**
 * The permission sets are the outer wall of operator tooling: under `gateway` nothing can be spawned
 * at all; under `gateway-tooling` only the listed executables (plus /usr/bin/kill for stopping
 * process groups) can. These tests run small probes under the real sets from deno.json.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { childEnv } from "../helpers/gateway_process.ts";
import { REPO_ROOT, sandboxTempDir } from "../helpers/paths.ts";

const PROCESSES_TS = pathToFileURL(join(REPO_ROOT, "src", "tooling", "processes.ts")).href;

async function runProbe(dir: string, source: string, flags: string[]): Promise<Record<string, unknown>> {
  const probe = join(dir, "probe.ts");
  await Deno.writeTextFile(probe, source);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, "--no-prompt", probe],
    cwd: REPO_ROOT,
    env: childEnv({}),
    clearEnv: true,
    stdin: "null",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, `probe failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

const SPAWN_PROBE = `
const result: Record<string, string> = {};
async function attempt(name: string, fn: () => Promise<unknown>) {
  try { await fn(); result[name] = "ok"; } catch (err) { result[name] = (err as Error).name; }
}
await attempt("sh", () => new Deno.Command("/bin/sh", { args: ["-c", "true"] }).output());
await attempt("kill", () => new Deno.Command("/usr/bin/kill", { args: ["-l"], stdout: "null" }).output());
await attempt("group_signal", async () => Deno.kill(-Deno.pid, "SIGCONT"));
console.log(JSON.stringify(result));
`;

Deno.test("permissions: under -P=gateway nothing can be spawned (NotCapable)", async () => {
  const dir = await sandboxTempDir("perm-");
  try {
    assert.deepEqual(await runProbe(dir, SPAWN_PROBE, ["-P=gateway"]), {
      sh: "NotCapable",
      kill: "NotCapable",
      group_signal: "NotCapable",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("permissions: -P=gateway-tooling allows only /usr/bin/kill until the operator lists commands", async () => {
  const dir = await sandboxTempDir("perm-");
  try {
    assert.deepEqual(await runProbe(dir, SPAWN_PROBE, ["-P=gateway-tooling"]), {
      sh: "NotCapable",
      kill: "ok",
      group_signal: "NotCapable",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("permissions: the process manager under the tooling set refuses unlisted executables and stops listed ones with their children", async () => {
  const dir = await sandboxTempDir("perm-");
  try {
    await Deno.writeTextFile(
      join(dir, "commands.json"),
      JSON.stringify({
        commands: {
          shell: { argv: ["/bin/sh", "-c", "sleep 30 & echo child=$!; wait"] },
          unlisted: { argv: ["/bin/sleep", "30"] },
        },
      }),
    );
    const source = `
import { ProcessManager } from ${JSON.stringify(PROCESSES_TS)};
const pm = new ProcessManager({ commandsFile: ${JSON.stringify(join(dir, "commands.json"))}, dataDir: ${
      JSON.stringify(dir)
    }, graceMs: 2000 });
const result: Record<string, unknown> = {};
result.permitted = Object.fromEntries((await pm.status()).map((p) => [p.id, p.permitted]));
try { await pm.start("unlisted"); } catch (err) { result.unlisted = [(err as { status: number }).status, (err as Error).message]; }
const started = await pm.start("shell");
let log = "";
for (let i = 0; i < 200 && !/child=\\d+/.test(log); i++) {
  await new Promise((r) => setTimeout(r, 20));
  log = (await pm.logsTail("shell", 4096)).text;
}
result.leader = started.pid;
result.child = Number(/child=(\\d+)/.exec(log)?.[1]);
const stopped = await pm.stop("shell");
result.signal = stopped.signal;
await pm.close();
console.log(JSON.stringify(result));
`;
    const result = await runProbe(dir, source, ["-P=gateway-tooling", "--allow-run=/usr/bin/kill,/bin/sh"]);
    assert.deepEqual(result.permitted, { shell: true, unlisted: false });
    const [status, message] = result.unlisted as [number, string];
    assert.equal(status, 403);
    assert.match(message, /not in the run permission list/);
    assert.equal(result.signal, "SIGTERM");
    const child = result.child as number;
    assert.ok(child > 0);
    for (let i = 0; i < 100; i++) {
      const stat = await Deno.readTextFile(`/proc/${child}/stat`).catch(() => null);
      if (stat === null || stat.slice(stat.lastIndexOf(")") + 2)[0] === "Z") return;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail(`grandchild ${child} survived the stop: the process group was not signalled`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
