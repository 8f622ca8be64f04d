/**
 * The file backend's per-run artifact index (`artifacts/by_run/<run_id>/<artifact_id>`): written with
 * each run-scoped artifact, built once for a data dir written without it (upstream and legacy
 * layouts), ignored where it disagrees with the metadata files (which stay the truth).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openStores } from "../../src/store/open.ts";
import type { Stores } from "../../src/store/types.ts";
import { withTempDir } from "./fixtures.ts";
import { exportMetaFiles } from "../../src/store/file/artifacts.ts";
import { ArtifactPaths } from "../../src/store/artifact_meta.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
const open = (dir: string): Promise<Stores> => openStores({ backend: "file", dataDir: dir });
const ids = async (stores: Stores, runId: string) =>
  (await stores.artifacts.listByRun(runId)).map((m) => m.artifact_id).sort();

Deno.test("file artifacts: a data dir without the index is indexed once; the index follows stores and deletes", () =>
  withTempDir("gw-file-art-idx-", async (dir) => {
    const root = join(dir, "artifacts");
    await Deno.mkdir(join(root, "refs"), { recursive: true });
    await Deno.mkdir(join(root, "blobs"), { recursive: true });
    const meta = (id: string, runId: string, blob: string) =>
      JSON.stringify({ artifact_id: id, blob_id: blob, run_id: runId, created_at: "2025-01-01T00:00:00Z" });
    await Deno.writeTextFile(join(root, "refs", "up1.meta"), meta("up1", "old", "c".repeat(64)));
    await Deno.writeTextFile(join(root, "blobs", `${"c".repeat(64)}.bin`), "upstream");
    await Deno.writeTextFile(join(root, "leg1.meta"), meta("leg1", "old", ""));
    await Deno.writeTextFile(join(root, "leg1.bin"), "legacy");
    await Deno.writeTextFile(join(root, "refs", "other.meta"), meta("other", "another", "c".repeat(64)));

    const stores = await open(dir);
    try {
      assert.deepEqual(await ids(stores, "old"), ["leg1", "up1"]);
      assert.deepEqual(await ids(stores, "another"), ["other"]);
      assert.ok(await Deno.stat(join(root, "by_run", ".complete")), "the index is recorded as built");
      const fresh = await stores.artifacts.store(bytes("new"), { run_id: "old" });
      assert.ok(await Deno.stat(join(root, "by_run", "old", fresh.artifact_id)), "a store adds its entry");
      assert.deepEqual(await ids(stores, "old"), [fresh.artifact_id, "leg1", "up1"].sort());
      assert.equal(await stores.artifacts.delete("leg1"), true);
      await assert.rejects(Deno.stat(join(root, "by_run", "old", "leg1")), Deno.errors.NotFound);
      assert.deepEqual(await ids(stores, "old"), [fresh.artifact_id, "up1"].sort());

      // The metadata decides: an entry without metadata, or whose metadata names another run, is ignored.
      await Deno.writeTextFile(join(root, "by_run", "old", "ghost"), "");
      await Deno.writeTextFile(join(root, "by_run", "old", "other"), "");
      assert.deepEqual(await ids(stores, "old"), [fresh.artifact_id, "up1"].sort());
      assert.deepEqual(await ids(stores, "never-stored"), []);
    } finally {
      await stores.close();
    }
  }));

Deno.test("file artifacts: metadata written back from a database (migrate --to postgres) is indexed", () =>
  withTempDir("gw-file-art-exp-", async (dir) => {
    let first = await open(dir);
    const stored = await first.artifacts.store(bytes("kept"), { run_id: "a" }); // the index exists now
    await first.close();
    await exportMetaFiles(new ArtifactPaths(dir), [{ ...stored, artifact_id: "from-db", run_id: "b" }]);
    first = await open(dir);
    try {
      assert.deepEqual(await ids(first, "b"), ["from-db"]);
      assert.equal(text((await first.artifacts.load("from-db"))?.content), "kept");
    } finally {
      await first.close();
    }
  }));
