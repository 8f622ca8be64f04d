import assert from "node:assert/strict";
import { join } from "node:path";
import { Hono } from "hono";
import { loadConfig } from "../../src/config/config.ts";
import type { AppEnv } from "../../src/http/env.ts";
import { toolingRoutes } from "../../src/tooling/routes.ts";
import { TOOLING_DISABLED_DETAIL } from "../../src/tooling/status.ts";
import { setLogLevel } from "../../src/util/log.ts";

setLogLevel("warn");

const ROUTES: [string, string][] = [
  ["GET", "/files/list?path=."],
  ["GET", "/files/read?path=a.txt"],
  ["POST", "/files/write"],
  ["GET", "/processes"],
  ["GET", "/processes/x"],
  ["POST", "/processes/x/start"],
  ["POST", "/processes/x/stop"],
  ["POST", "/processes/x/restart"],
  ["GET", "/processes/x/logs/tail"],
  ["POST", "/reports"],
  ["POST", "/bugs/report"],
  ["POST", "/features/report"],
  ["GET", "/reports"],
  ["GET", "/reports/x"],
  ["POST", "/reports/x/status"],
];

/** Response bodies are checked field by field below. */
// deno-lint-ignore no-explicit-any
type Body = any;

/** Serves the tooling sub-app under /api/gateway on a real loopback port. */
async function serveTooling(
  env: Record<string, string>,
  fn: (
    call: (method: string, path: string, body?: unknown) => Promise<{ status: number; json: Body }>,
  ) => Promise<void>,
): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "gw-tooling-routes-" });
  const config = loadConfig({ ABSTRACTGATEWAY_DATA_DIR: dataDir, ...env });
  const tooling = toolingRoutes({ config, dataDir: config.dataDir, processGraceMs: 1000 });
  const app = new Hono<AppEnv>();
  app.get("/api/gateway/ping", (c) => c.json({ ok: true }));
  app.route("/api/gateway", tooling.app);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  const base = `http://127.0.0.1:${server.addr.port}/api/gateway`;
  try {
    await fn(async (method, path, body) => {
      const res = await fetch(base + path, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: await res.json() };
    });
  } finally {
    await tooling.close();
    await server.shutdown();
    await Deno.remove(dataDir, { recursive: true });
  }
}

Deno.test("tooling routes: disabled by default, every route is 404 and status says so", async () => {
  await serveTooling({}, async (call) => {
    for (const [method, path] of ROUTES) {
      const res = await call(method, path, method === "POST" ? { title: "t", body: "b" } : undefined);
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.deepEqual(res.json, { detail: TOOLING_DISABLED_DETAIL });
    }
    assert.deepEqual((await call("GET", "/tooling/status")).json, {
      enabled: false,
      features: { files: false, processes: false, reports: false },
    });
    assert.deepEqual((await call("GET", "/ping")).json, { ok: true }, "other routes are untouched");
  });
});

Deno.test("tooling routes: enabled without roots or commands, those families explain what to set", async () => {
  await serveTooling({ ABSTRACTGATEWAY_ENABLE_TOOLING: "1" }, async (call) => {
    assert.deepEqual((await call("GET", "/tooling/status")).json, {
      enabled: true,
      features: { files: false, processes: false, reports: true },
    });
    const files = await call("GET", "/files/list");
    assert.equal(files.status, 404);
    assert.match(files.json.detail, /ABSTRACTGATEWAY_WORKSPACE_DIR/);
    const procs = await call("GET", "/processes");
    assert.equal(procs.status, 404);
    assert.match(procs.json.detail, /ABSTRACTGATEWAY_TOOLING_COMMANDS/);
  });
});

Deno.test("tooling routes: files, processes and reports over real HTTP", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gw-tooling-ws-" });
  try {
    const ws = join(dir, "ws");
    const mnt = join(dir, "mnt");
    await Deno.mkdir(ws);
    await Deno.mkdir(mnt);
    await Deno.symlink("/etc/hostname", join(ws, "escape"));
    const commandsFile = join(dir, "commands.json");
    await Deno.writeTextFile(
      commandsFile,
      JSON.stringify({ commands: { echo: { argv: ["/bin/sh", "-c", "echo from-echo; sleep 30"] } } }),
    );
    const env = {
      ABSTRACTGATEWAY_ENABLE_TOOLING: "1",
      ABSTRACTGATEWAY_WORKSPACE_DIR: ws,
      ABSTRACTGATEWAY_WORKSPACE_MOUNTS: `notes=${mnt}`,
      ABSTRACTGATEWAY_TOOLING_COMMANDS: commandsFile,
      ABSTRACTGATEWAY_TOOLING_MAX_FILE_BYTES: "100",
    };
    await serveTooling(env, async (call) => {
      assert.deepEqual((await call("GET", "/tooling/status")).json.features, {
        files: true,
        processes: true,
        reports: true,
      });

      // Files
      const written = await call("POST", "/files/write", { path: "notes:/todo.md", content: "- ship" });
      assert.deepEqual(written, { status: 200, json: { path: "notes:/todo.md", size: 6, created: true } });
      assert.equal(
        (await call("POST", "/files/write", { path: "notes:/todo.md", content: "x" })).status,
        409,
      );
      const b64 = await call("POST", "/files/write", {
        path: "bin",
        content: btoa("\x00\x01"),
        encoding: "base64",
      });
      assert.equal(b64.json.size, 2);
      assert.equal((await call("GET", "/files/read?path=notes:/todo.md")).json.content, "- ship");
      const listed = await call("GET", "/files/list?path=");
      assert.deepEqual(listed.json.entries.map((e: { name: string }) => e.name), ["bin", "escape"]);
      assert.equal((await call("GET", "/files/read?path=escape")).status, 403);
      assert.equal((await call("GET", "/files/read?path=../x")).status, 403);
      assert.equal((await call("GET", "/files/read")).status, 400);
      const big = await call("POST", "/files/write", { path: "big.txt", content: "x".repeat(101) });
      assert.equal(big.status, 413);
      const bad = await call("POST", "/files/write", { path: "a.txt" });
      assert.equal(bad.status, 422);
      assert.deepEqual(bad.json.detail[0].loc, ["body", "content"]);

      // Processes
      assert.equal((await call("GET", "/processes")).json.processes[0].status, "never_started");
      assert.equal((await call("POST", "/processes/nope/start")).status, 404);
      const started = await call("POST", "/processes/echo/start");
      assert.equal(started.json.status, "running");
      for (let i = 0; i < 100; i++) {
        if ((await call("GET", "/processes/echo/logs/tail?max_bytes=1000")).json.text.match(/^from-echo$/m)) {
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.match((await call("GET", "/processes/echo/logs/tail")).json.text, /^from-echo$/m);
      assert.equal((await call("GET", "/processes/echo/logs/tail?max_bytes=0")).status, 422);
      const restarted = await call("POST", "/processes/echo/restart");
      assert.equal(restarted.json.status, "running");
      assert.notEqual(restarted.json.pid, started.json.pid);
      const stopped = await call("POST", "/processes/echo/stop");
      assert.equal(stopped.json.status, "exited");

      // Reports
      const bug = await call("POST", "/bugs/report", { title: "Crash", description: "boom" });
      assert.equal(bug.status, 201);
      assert.equal(bug.json.report.kind, "bug");
      assert.equal(bug.json.report.body, "boom");
      const feature = await call("POST", "/reports", { kind: "feature", title: "Idea", body: "more" });
      assert.equal(feature.status, 201);
      assert.equal((await call("POST", "/reports", { kind: "nope", title: "x", body: "y" })).status, 422);
      assert.equal((await call("POST", "/features/report", { title: "no body" })).status, 400);
      const id = bug.json.report.id;
      assert.equal((await call("GET", `/reports/${id}`)).json.title, "Crash");
      const updated = await call("POST", `/reports/${id}/status`, { status: "accepted", note: "will fix" });
      assert.equal(updated.json.status, "accepted");
      assert.equal((await call("POST", `/reports/${id}/status`, { status: "wontfix" })).status, 422);
      const list = await call("GET", "/reports?kind=bug");
      assert.deepEqual(list.json.items.map((r: { id: string }) => r.id), [id]);
      assert.equal((await call("GET", "/reports/missing")).status, 404);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
