/**
 * Operator tooling over the real entry: `serve` under the `gateway-tooling` permission set (the
 * `serve:tooling` task) serves files inside ./workspace; under the default `gateway` set, enabling
 * tooling still cannot spawn anything.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { childEnv, startServe } from "../helpers/gateway_process.ts";
import { MAIN_TS, REPO_ROOT, sandboxTempDir } from "../helpers/paths.ts";

const TOKEN = "tooling-e2e-token-0123456789abcdef";
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const WORKSPACE_ROOT = join(REPO_ROOT, "workspace");

// deno-lint-ignore no-explicit-any
type Json = any;

/** `deno run -P=gateway-tooling main.ts serve` on a free port; resolves once it listens. */
async function startToolingServe(env: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-q",
      "-P=gateway-tooling",
      "--no-prompt",
      MAIN_TS,
      "serve",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
    ],
    cwd: REPO_ROOT,
    env: childEnv(env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    const status = await child.status;
    await reader.cancel();
    await stderr;
    return status.code;
  };
  try {
    const deadline = Date.now() + 30_000;
    let m: RegExpMatchArray | null = null;
    while (!(m = out.match(/listening on (http:\/\/\S+)/))) {
      const { value, done } = await reader.read();
      if (done || Date.now() > deadline) throw new Error(`serve did not start: ${out} ${await stderr}`);
      out += value;
    }
    return { url: m[1], stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function call(url: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${url}/api/gateway${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? AUTH : { ...AUTH, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** A unique dir under ./workspace; removes it afterwards, and ./workspace too if we made it and it is empty. */
async function withWorkspace(fn: (dir: string) => Promise<void>): Promise<void> {
  const created = !(await exists(WORKSPACE_ROOT));
  await Deno.mkdir(WORKSPACE_ROOT, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: WORKSPACE_ROOT, prefix: "e2e-tooling-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
    if (created) {
      const left = await Array.fromAsync(Deno.readDir(WORKSPACE_ROOT));
      if (left.length === 0) await Deno.remove(WORKSPACE_ROOT);
    }
  }
}

Deno.test("tooling: serve:tooling permission set serves files inside the workspace", async () => {
  await withWorkspace(async (workspace) => {
    const data = await sandboxTempDir("tooling-");
    try {
      await Deno.writeTextFile(join(workspace, "notes.txt"), "hello from disk\n");
      const gw = await startToolingServe({
        ABSTRACTGATEWAY_DATA_DIR: data,
        ABSTRACTGATEWAY_FLOWS_DIR: join(REPO_ROOT, "bundles"),
        ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN,
        ABSTRACTGATEWAY_ENABLE_TOOLING: "1",
        ABSTRACTGATEWAY_WORKSPACE_DIR: workspace,
      });
      try {
        const status = await call(gw.url, "/tooling/status");
        assert.equal(status.status, 200);
        assert.equal(status.body.enabled, true);
        assert.equal(status.body.features.files, true);

        const list = await call(gw.url, "/files/list?path=.");
        assert.equal(list.status, 200, JSON.stringify(list.body));
        const names = list.body.entries.map((e: Json) => e.name);
        assert.deepEqual(names, ["notes.txt"]);
        assert.equal(list.body.entries[0].type, "file");

        const read = await call(gw.url, "/files/read?path=notes.txt");
        assert.equal(read.status, 200, JSON.stringify(read.body));
        assert.equal(read.body.content, "hello from disk\n");
        assert.equal(read.body.encoding, "utf-8");

        const write = await call(gw.url, "/files/write", {
          path: "sub/new.txt",
          content: "written by the gateway",
          mkdirs: true,
        });
        assert.equal(write.status, 200, JSON.stringify(write.body));
        assert.equal(write.body.created, true);
        assert.equal(await Deno.readTextFile(join(workspace, "sub", "new.txt")), "written by the gateway");

        const again = await call(gw.url, "/files/write", { path: "sub/new.txt", content: "x" });
        assert.equal(again.status, 409, "no overwrite without overwrite: true");
        const outside = await call(gw.url, "/files/read?path=../../deno.json");
        assert.equal(outside.status, 403, JSON.stringify(outside.body));
      } finally {
        assert.equal(await gw.stop(), 0);
      }
    } finally {
      await Deno.remove(data, { recursive: true });
    }
  });
});

Deno.test("tooling: under the default gateway permission set, enabling tooling still spawns nothing", async () => {
  const data = await sandboxTempDir("tooling-");
  try {
    const marker = join(data, "spawned");
    const commands = join(data, "commands.json");
    await Deno.writeTextFile(
      commands,
      JSON.stringify({
        commands: {
          touch: { argv: ["/usr/bin/touch", marker], cwd: data, description: "would leave a marker" },
          shell: { argv: ["/bin/sh", "-c", `echo ran > ${marker}`], cwd: data },
        },
      }),
    );
    const gw = await startServe({
      ABSTRACTGATEWAY_DATA_DIR: data,
      ABSTRACTGATEWAY_FLOWS_DIR: join(REPO_ROOT, "bundles"),
      ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN,
      ABSTRACTGATEWAY_ENABLE_TOOLING: "1",
      ABSTRACTGATEWAY_TOOLING_COMMANDS: commands,
    });
    try {
      const status = await call(gw.url, "/tooling/status");
      assert.equal(status.body.enabled, true);
      assert.equal(status.body.features.processes, true);

      const list = await call(gw.url, "/processes");
      assert.equal(list.status, 200, JSON.stringify(list.body));
      assert.deepEqual(
        list.body.processes.map((p: Json) => [p.id, p.permitted, p.status]).sort(),
        [["shell", false, "never_started"], ["touch", false, "never_started"]],
      );
      for (const id of ["touch", "shell"]) {
        const start = await call(gw.url, `/processes/${id}/start`, {});
        assert.ok(start.status >= 400, `${id}: ${JSON.stringify(start.body)}`);
        assert.equal(start.status, 403);
        assert.match(String(start.body.detail), /not in the run permission list/);
      }
      const after = await call(gw.url, "/processes");
      assert.ok(after.body.processes.every((p: Json) => p.status === "never_started" && p.pid === null));
      assert.equal(await exists(marker), false, "nothing ran");
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  } finally {
    await Deno.remove(data, { recursive: true });
  }
});
