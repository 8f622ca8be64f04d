/**
 * Faults at the filesystem (issue 17), with a real `gateway serve` subprocess on a small tmpfs the
 * test mounts: a read-only data dir stops start-up with one line and exit 2; a full disk answers
 * 507 (never 500), keeps /api/health answering, loses no acknowledged command and recovers by
 * itself once space is freed — on both stores. Skipped, with the reason, where mounting is forbidden.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Json } from "../helpers/gateway_api.ts";
import { runGateway, startServe } from "../helpers/gateway_process.ts";
import { sandboxTempDir } from "../helpers/paths.ts";
import { fillDisk, mountSmallFs } from "../helpers/tmpfs.ts";

const TOKEN = "faults-token";

Deno.test("a read-only data dir at start: one-line error, exit 2", async (t) => {
  const root = await sandboxTempDir("faults-ro-");
  const fs = await mountSmallFs(join(root, "data"), 256, true);
  try {
    if (typeof fs === "string") {
      console.warn(`skipped: ${fs}`);
      await t.step("skipped: " + fs, () => {});
      return;
    }
    const out = await runGateway(["serve", "--host", "127.0.0.1", "--port", "0"], {
      ABSTRACTGATEWAY_DATA_DIR: fs.dir,
      ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN,
    });
    assert.equal(out.code, 2, out.stderr);
    const lines = out.stderr.trim().split("\n");
    assert.equal(lines.length, 1, out.stderr);
    assert.match(lines[0], /Cannot write to the data dir .*data/);
  } finally {
    if (typeof fs !== "string") await fs.unmount();
    await Deno.remove(root, { recursive: true });
  }
});

async function call(
  url: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json; ms: number }> {
  const started = Date.now();
  const res = await fetch(`${url}/api/gateway${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  let json: Json = text;
  try {
    json = JSON.parse(text);
  } catch { /* keep text */ }
  return { status: res.status, body: json, ms: Date.now() - started };
}

for (const backend of ["file", "sqlite"]) {
  Deno.test(`${backend} store: a full disk answers 507, loses nothing acknowledged, recovers by itself`, async (t) => {
    const root = await sandboxTempDir("faults-full-");
    const fs = await mountSmallFs(join(root, "data"), 4096);
    if (typeof fs === "string") {
      console.warn(`skipped: ${fs}`);
      await t.step("skipped: " + fs, () => {});
      await Deno.remove(root, { recursive: true });
      return;
    }
    const gw = await startServe({
      ABSTRACTGATEWAY_DATA_DIR: fs.dir,
      ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN,
      ABSTRACTGATEWAY_STORE_BACKEND: backend,
      ABSTRACTGATEWAY_POLL_S: "0.1",
      ABSTRACTGATEWAY_LOG_LEVEL: "none",
    });
    const emit = (id: string) =>
      call(gw.url, "/commands", {
        command_id: id,
        run_id: "sess",
        type: "emit_event",
        payload: { name: "n" },
      });
    try {
      assert.equal((await emit("before")).status, 200);
      const filler = await fillDisk(fs.dir);
      const accepted: string[] = [];
      for (let i = 0; i < 12; i++) {
        const res = await emit(`full-${i}`);
        assert.ok(
          [200, 503, 507].includes(res.status),
          `full-${i}: ${res.status} ${JSON.stringify(res.body)} ${gw.stderr().slice(-600)}`,
        );
        if (res.status === 200) accepted.push(`full-${i}`);
        else assert.match(String(res.body.detail), /disk is full|retry/i);
        const health = await fetch(`${gw.url}/api/health`, { signal: AbortSignal.timeout(5_000) });
        await health.body?.cancel();
        assert.equal(health.status, 200);
      }
      const start = await call(gw.url, "/runs/start", { bundle_id: "nope" });
      assert.notEqual(start.status, 500, JSON.stringify(start.body));
      await Deno.remove(filler);
      // Recovers by itself: new commands are accepted, and every acknowledged one gets applied.
      const deadline = Date.now() + 20_000;
      let after = await emit("after");
      while (after.status !== 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        after = await emit("after");
      }
      assert.equal(after.status, 200, JSON.stringify(after.body));
      for (const id of ["before", ...accepted, "after"]) {
        let outcome = await call(gw.url, `/commands/${id}`);
        while (outcome.body.status === "pending" && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
          outcome = await call(gw.url, `/commands/${id}`);
        }
        assert.equal(outcome.body.status, "applied", `${id}: ${JSON.stringify(outcome.body)}`);
      }
    } finally {
      await gw.stop();
      await fs.unmount();
      await Deno.remove(root, { recursive: true });
    }
  });
}
