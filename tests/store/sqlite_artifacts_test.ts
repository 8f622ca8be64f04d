/**
 * SQLite artifact metadata (schema v2) on a real DB file: a start's snapshot row and run row commit
 * together, blobs are written once and collected safely, the metadata survives a reopen, and an
 * older data dir (schema v1, `.meta` files in the upstream and legacy layouts) keeps working.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { openStores } from "../../src/store/open.ts";
import { MIGRATIONS, SCHEMA_VERSION } from "../../src/store/sqlite/schema.ts";
import type { Stores } from "../../src/store/types.ts";
import { makeRun, withTempDir } from "./fixtures.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
const open = (dir: string): Promise<Stores> =>
  openStores({ backend: "sqlite", dataDir: dir, dbPath: join(dir, "gateway.sqlite3") });

async function blobFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(join(dir, "artifacts", "blobs"))) if (e.isFile) names.push(e.name);
  return names.sort();
}

Deno.test("sqlite artifacts: metadata in the DB with the run, one blob per content, kept across a reopen", () =>
  withTempDir("gw-sql-art-", async (dir) => {
    const stores = await open(dir);
    let snapshotId: string;
    try {
      const snap = bytes('{"nodes":[]}');
      // Issued in the same turn, as a run start does: both rows are committed by the same batch.
      const [, meta] = await Promise.all([
        stores.runs.save(makeRun("r1")),
        stores.artifacts.store(snap, { run_id: "r1", tags: { kind: "visualflow_json" }, filename: "s.json" }),
      ]);
      snapshotId = meta.artifact_id;
      const second = await stores.artifacts.store(snap, { run_id: "r2" });
      assert.notEqual(second.artifact_id, snapshotId, "run-scoped ids differ per run");
      assert.equal(second.blob_id, meta.blob_id);
      assert.deepEqual(await blobFiles(dir), [`${meta.blob_id}.bin`], "one blob file for both runs");
      await stores.artifacts.store(bytes("other"), { run_id: "r1", artifact_id: "named-1" });
      assert.deepEqual(
        (await stores.artifacts.listByRun("r1")).map((m) => m.artifact_id).sort(),
        [
          snapshotId,
          "named-1",
        ].sort(),
      );
      assert.equal(await stores.artifacts.getMetadata("../etc"), null);
    } finally {
      await stores.close();
    }
    const reopened = await open(dir);
    try {
      const loaded = await reopened.artifacts.load(snapshotId);
      assert.equal(text(loaded?.content), '{"nodes":[]}');
      assert.deepEqual(loaded?.meta.tags, { kind: "visualflow_json" });
      assert.equal(loaded?.meta.filename, "s.json");
      assert.ok(await reopened.runs.load("r1"));
    } finally {
      await reopened.close();
    }
  }));

Deno.test("sqlite artifacts: a blob collected by another process is written again before a row names it", () =>
  withTempDir("gw-sql-art-gc-", async (dir) => {
    const a = await open(dir);
    const b = await open(dir);
    try {
      const content = bytes("shared bytes");
      const first = await a.artifacts.store(content, { run_id: "r1" }); // `a` now knows the blob
      const blob = join(dir, "artifacts", "blobs", `${first.blob_id}.bin`);
      assert.equal(await b.artifacts.delete(first.artifact_id), true);
      await assert.rejects(Deno.stat(blob), Deno.errors.NotFound, "the last reference took the blob");
      const again = await a.artifacts.store(content, { run_id: "r2" });
      assert.equal(text((await b.artifacts.load(again.artifact_id))?.content), "shared bytes");
      // A shared blob survives the delete of one of its artifacts.
      await a.artifacts.store(content, { run_id: "r3" });
      assert.equal(await a.artifacts.delete(again.artifact_id), true);
      assert.ok(await Deno.stat(blob));
    } finally {
      await a.close();
      await b.close();
    }
  }));

Deno.test("sqlite artifacts: an older data dir (schema v1, .meta files in both file layouts) is upgraded", () =>
  withTempDir("gw-sql-art-up-", async (dir) => {
    const dbPath = join(dir, "gateway.sqlite3");
    const old = new DatabaseSync(dbPath);
    MIGRATIONS[0](old);
    old.exec("PRAGMA user_version = 1");
    old.close();
    const root = join(dir, "artifacts");
    await Deno.mkdir(join(root, "refs"), { recursive: true });
    await Deno.mkdir(join(root, "blobs"), { recursive: true });
    const meta = (id: string, blob: string) =>
      JSON.stringify({ artifact_id: id, blob_id: blob, run_id: "old", created_at: "2025-01-01T00:00:00Z" });
    await Deno.writeTextFile(join(root, "refs", "upstream1.meta"), meta("upstream1", "b".repeat(64)));
    await Deno.writeTextFile(join(root, "blobs", `${"b".repeat(64)}.bin`), "upstream bytes");
    await Deno.writeTextFile(join(root, "legacy1.meta"), meta("legacy1", ""));
    await Deno.writeTextFile(join(root, "legacy1.bin"), "legacy bytes");
    await Deno.writeTextFile(join(root, "refs", "broken.meta"), "{not json");

    const stores = await open(dir);
    try {
      assert.deepEqual(
        (await stores.artifacts.listByRun("old")).map((m) => m.artifact_id).sort(),
        ["legacy1", "upstream1"],
      );
      assert.equal(text((await stores.artifacts.load("upstream1"))?.content), "upstream bytes");
      assert.equal(text((await stores.artifacts.load("legacy1"))?.content), "legacy bytes");
      assert.equal(await stores.artifacts.delete("legacy1"), true);
      await assert.rejects(Deno.stat(join(root, "legacy1.meta")), Deno.errors.NotFound);
    } finally {
      await stores.close();
    }
    const db = new DatabaseSync(dbPath);
    try {
      const version = db.prepare("PRAGMA user_version").get() as { user_version: number };
      assert.equal(version.user_version, SCHEMA_VERSION);
    } finally {
      db.close();
    }
    // The files are imported once: a deleted artifact does not come back on the next open.
    const reopened = await open(dir);
    try {
      assert.deepEqual((await reopened.artifacts.listByRun("old")).map((m) => m.artifact_id), ["upstream1"]);
    } finally {
      await reopened.close();
    }
  }));
