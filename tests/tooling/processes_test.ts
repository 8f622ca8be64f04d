import assert from "node:assert/strict";
import { join } from "node:path";
import type { ToolingError } from "../../src/tooling/errors.ts";
import { ProcessManager } from "../../src/tooling/processes.ts";
import { setLogLevel } from "../../src/util/log.ts";

setLogLevel("warn");

async function withManager(
  commands: unknown,
  fn: (pm: ProcessManager, dir: string) => Promise<void>,
  graceMs = 2000,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gw-proc-" });
  const commandsFile = join(dir, "commands.json");
  await Deno.writeTextFile(commandsFile, JSON.stringify(commands));
  const pm = new ProcessManager({
    commandsFile,
    dataDir: join(dir, "data"),
    graceMs,
    logMaxBytes: 4096,
    logKeep: 2,
  });
  try {
    await fn(pm, dir);
  } finally {
    await pm.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** True while `pid` runs (a zombie waiting for a reaper counts as gone). */
async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function waitGone(pid: number): Promise<void> {
  await waitFor(async () => !(await isAlive(pid)), `pid ${pid} to end`);
}

Deno.test("processes: start, status, logs and stop a declared command, children included", async () => {
  const commands = {
    commands: {
      sleeper: {
        argv: [
          "/bin/sh",
          "-c",
          'echo hi; echo "token=${ABSTRACTGATEWAY_AUTH_TOKEN:-unset} greet=$GREET" >&2; sleep 30',
        ],
        env: { GREET: "hello" },
        description: "prints then sleeps",
      },
    },
  };
  Deno.env.set("ABSTRACTGATEWAY_AUTH_TOKEN", "must-not-leak");
  try {
    await withManager(commands, async (pm) => {
      const [before] = await pm.status();
      assert.equal(before.status, "never_started");
      assert.equal(before.permitted, true);

      const started = await pm.start("sleeper");
      assert.equal(started.status, "running");
      assert.ok(started.pid && started.pid > 0);
      await assert.rejects(pm.start("sleeper"), (e: ToolingError) => e.status === 409);

      await waitFor(
        async () => (await pm.logsTail("sleeper", 4096)).text.includes("greet=hello"),
        "log output",
      );
      const tail = await pm.logsTail("sleeper", 4096);
      assert.match(tail.text, /started pid=/);
      assert.match(tail.text, /^hi$/m);
      assert.match(tail.text, /token=unset greet=hello/, "the gateway's environment is not inherited");

      // The shell's `sleep` child is in the same process group and must die with it.
      const ps = await new Deno.Command("/bin/ps", { args: ["-o", "pid=", "-g", String(started.pid)] })
        .output();
      const groupPids = new TextDecoder().decode(ps.stdout).trim().split(/\s+/).map(Number);
      assert.equal(groupPids.length, 2, "sh and sleep");

      const stopped = await pm.stop("sleeper");
      assert.equal(stopped.status, "exited");
      assert.equal(stopped.signal, "SIGTERM");
      for (const pid of groupPids) await waitGone(pid);
      assert.match((await pm.logsTail("sleeper", 4096)).text, /exited signal=SIGTERM\n$/);
      assert.equal((await pm.stop("sleeper")).status, "exited", "stop is idempotent");
    });
  } finally {
    Deno.env.delete("ABSTRACTGATEWAY_AUTH_TOKEN");
  }
});

Deno.test("processes: SIGKILL after the grace period when SIGTERM is ignored", async () => {
  const commands = {
    commands: { stubborn: { argv: ["/bin/sh", "-c", "trap '' TERM; echo ready; sleep 30 & wait"] } },
  };
  await withManager(commands, async (pm) => {
    await pm.start("stubborn");
    await waitFor(async () => /^ready$/m.test((await pm.logsTail("stubborn", 1024)).text), "ready");
    const t0 = Date.now();
    const info = await pm.stop("stubborn");
    assert.equal(info.signal, "SIGKILL");
    assert.ok(Date.now() - t0 >= 250);
  }, 300);
});

Deno.test("processes: undeclared ids are 404, exit codes are recorded, close stops everything", async () => {
  const commands = {
    commands: {
      quick: { argv: ["/bin/sh", "-c", "echo done; exit 3"] },
      long: { argv: ["/bin/sleep", "30"] },
    },
  };
  await withManager(commands, async (pm) => {
    for (const call of [pm.start("nope"), pm.stop("nope"), pm.logsTail("nope", 10), pm.start("../quick")]) {
      await assert.rejects(call, (e: ToolingError) => e.status === 404 && /not declared/.test(e.detail));
    }
    await pm.start("quick");
    await waitFor(async () => (await pm.get("quick")).status === "exited", "quick to exit");
    const quick = await pm.get("quick");
    assert.equal(quick.exit_code, 3);
    assert.equal(quick.signal, null);
    const long = await pm.start("long");
    await pm.close();
    assert.equal(await isAlive(long.pid!), false);
    await assert.rejects(pm.start("long"), (e: ToolingError) => e.status === 503);
  });
});

Deno.test("processes: the log rotates by size", async () => {
  const commands = {
    commands: {
      chatty: {
        argv: [
          "/bin/sh",
          "-c",
          "i=0; while [ $i -lt 400 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done",
        ],
      },
    },
  };
  await withManager(commands, async (pm) => {
    await pm.start("chatty");
    await waitFor(async () => (await pm.get("chatty")).status === "exited", "chatty to exit");
    const names = (await Array.fromAsync(Deno.readDir(pm.logsDir))).map((e) => e.name).sort();
    assert.deepEqual(names, ["chatty.log", "chatty.log.1", "chatty.log.2"]);
    for (const name of names) assert.ok((await Deno.stat(join(pm.logsDir, name))).size <= 4096);
    assert.match((await pm.logsTail("chatty", 200)).text, /line-399-x+\n--- .* exited code=0\n$/);
  });
});

Deno.test("processes: a bad commands file is a clear error", async () => {
  await withManager({ commands: { bad: { argv: ["relative/exe"] } } }, async (pm) => {
    await assert.rejects(
      pm.status(),
      (e: ToolingError) => e.status === 500 && /argv\[0\] must be an absolute/.test(e.detail),
    );
  });
  await withManager({ commands: { x: { argv: ["/bin/true"], shell: true } } }, async (pm) => {
    await assert.rejects(pm.status(), (e: ToolingError) => /invalid at commands\.x/.test(e.detail));
  });
  const pm = new ProcessManager({ dataDir: "/nonexistent" });
  assert.equal(pm.available, false);
  assert.deepEqual(await pm.status(), []);
});

Deno.test("processes: concurrent starts of one id spawn it once", async () => {
  await withManager({ commands: { one: { argv: ["/bin/sleep", "30"] } } }, async (pm) => {
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => pm.start("one")));
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    for (const r of results) {
      if (r.status === "rejected") assert.equal((r.reason as ToolingError).status, 409);
    }
  });
});
