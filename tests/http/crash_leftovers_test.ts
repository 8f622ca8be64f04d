/**
 * What a kill -9 can leave in the data dir must not wedge the API (issue 17): a torn idempotency-key
 * marker counts as absent, and stale temp files are swept when the stores open.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256Hex } from "../../src/util/hash.ts";
import { postJson, startServer } from "./harness.ts";

Deno.test("a torn (empty) idempotency-key marker is treated as absent, not a 500 forever", async () => {
  const s = await startServer({ runner: false });
  try {
    const keysDir = join(s.dataDir, "start_keys");
    await Deno.mkdir(keysDir, { recursive: true });
    for (const [key, torn] of [["k-empty", ""], ["k-half", '{"key":"k-half","run_']]) {
      await Deno.writeTextFile(join(keysDir, `${sha256Hex(key)}.json`), torn);
      const first = await s.json(
        "/api/gateway/runs/start",
        postJson({ bundle_id: "demo" }, { "Idempotency-Key": key }),
      );
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const again = await s.json(
        "/api/gateway/runs/start",
        postJson({ bundle_id: "demo" }, { "Idempotency-Key": key }),
      );
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.run_id, first.body.run_id);
    }
  } finally {
    await s.close();
  }
});

for (const backend of ["file", "sqlite"]) {
  Deno.test(`${backend} store: stale temp files left by a crash are removed at start, fresh ones kept`, async () => {
    const s = await startServer({ runner: false, env: { ABSTRACTGATEWAY_STORE_BACKEND: backend } });
    try {
      const old = new Date(Date.now() - 3_600_000);
      const stale = [
        join(s.dataDir, ".run_x.json.0123456789abcdef.tmp"),
        join(s.dataDir, "start_keys", ".k.json.0123456789abcdef.tmp"),
        join(s.dataDir, "artifacts", "refs", ".a.meta.fedcba9876543210.tmp"),
        join(s.dataDir, "uploads", ".upload.0123456789abcdef.tmp"), // a bundle upload being spooled
      ];
      const fresh = join(s.dataDir, ".run_y.json.00112233445566ff.tmp");
      const unrelated = join(s.dataDir, "notes.tmp");
      for (const path of [...stale, fresh, unrelated]) {
        await Deno.mkdir(join(path, ".."), { recursive: true });
        await Deno.writeTextFile(path, "{");
      }
      for (const path of [...stale, unrelated]) await Deno.utime(path, old, old);
      await s.restart();
      for (const path of stale) await assert.rejects(Deno.stat(path), Deno.errors.NotFound, path);
      await Deno.stat(fresh);
      await Deno.stat(unrelated);
    } finally {
      await s.close();
    }
  });
}
