import assert from "node:assert/strict";
import { join } from "node:path";
import { ToolingError } from "../../src/tooling/errors.ts";
import { WorkspaceFiles } from "../../src/tooling/files.ts";

async function withWorkspace(fn: (ctx: { ws: string; mount: string; outside: string }) => Promise<void>) {
  const base = await Deno.makeTempDir({ prefix: "gw-files-" });
  try {
    const ws = join(base, "ws");
    const mount = join(base, "mnt");
    const outside = join(base, "outside");
    for (const dir of [ws, mount, outside]) await Deno.mkdir(dir);
    await fn({ ws, mount, outside });
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

async function rejectsWith(promise: Promise<unknown>, status: number, match?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ToolingError, `expected ToolingError, got ${err}`);
    assert.equal(err.status, status, err.detail);
    if (match) assert.match(err.detail, match);
    return true;
  });
}

Deno.test("files: list, read and write inside the workspace root and a named mount", async () => {
  await withWorkspace(async ({ ws, mount }) => {
    const files = new WorkspaceFiles({ workspaceDir: ws, mounts: { docs: mount }, maxFileBytes: 1024 });
    await Deno.mkdir(join(ws, "src"));
    await Deno.writeTextFile(join(ws, "src", "a.txt"), "hello");
    await Deno.mkdir(join(ws, ".git"));
    await Deno.mkdir(join(ws, "node_modules"));
    await Deno.writeTextFile(join(mount, "readme.md"), "# docs");

    const root = await files.list();
    assert.equal(root.path, ".");
    assert.deepEqual(root.entries.map((e) => [e.name, e.type, e.path]), [["src", "dir", "src"]]);
    const src = await files.list("src");
    assert.deepEqual(src.entries.map((e) => [e.name, e.size]), [["a.txt", 5]]);
    assert.deepEqual(await files.read("src/a.txt"), {
      path: "src/a.txt",
      size: 5,
      encoding: "utf-8",
      content: "hello",
    });
    assert.equal(
      (await files.read(join(ws, "src", "a.txt"))).path,
      "src/a.txt",
      "absolute path inside a root",
    );

    const docs = await files.list("docs:/");
    assert.deepEqual(docs.entries.map((e) => e.path), ["docs:/readme.md"]);
    assert.equal((await files.read("docs:/readme.md")).content, "# docs");

    const written = await files.write("docs:/notes/new.txt", "new", { mkdirs: true });
    assert.deepEqual(written, { path: "docs:/notes/new.txt", size: 3, created: true });
    assert.equal(await Deno.readTextFile(join(mount, "notes", "new.txt")), "new");

    const binary = new Uint8Array([0xff, 0x00, 0xfe]);
    await files.write("bin.dat", binary);
    const read = await files.read("bin.dat");
    assert.equal(read.encoding, "base64");
    assert.equal(read.content, btoa("\xff\x00\xfe"));
  });
});

Deno.test("files: a symlink inside a root pointing outside is refused (read, list and write)", async () => {
  await withWorkspace(async ({ ws, outside }) => {
    const files = new WorkspaceFiles({ workspaceDir: ws, maxFileBytes: 1024 });
    await Deno.writeTextFile(join(outside, "secret.txt"), "secret");
    await Deno.symlink(join(outside, "secret.txt"), join(ws, "link.txt"));
    await Deno.symlink(outside, join(ws, "linkdir"));
    await rejectsWith(files.read("link.txt"), 403, /outside the workspace roots/);
    await rejectsWith(files.list("linkdir"), 403);
    await rejectsWith(files.read("linkdir/secret.txt"), 403);
    await rejectsWith(files.write("linkdir/planted.txt", "x"), 403);
    await assert.rejects(Deno.stat(join(outside, "planted.txt")), Deno.errors.NotFound);
    await rejectsWith(files.read(join(outside, "secret.txt")), 403, /outside the workspace roots/);

    // Overwriting a symlink replaces the link itself; the file outside is never touched.
    await files.write("link.txt", "replaced", { overwrite: true });
    assert.equal(await Deno.readTextFile(join(outside, "secret.txt")), "secret");
    assert.equal((await Deno.lstat(join(ws, "link.txt"))).isSymlink, false);

    // A symlink that stays inside the root is fine.
    await Deno.writeTextFile(join(ws, "real.txt"), "inside");
    await Deno.symlink(join(ws, "real.txt"), join(ws, "inner-link.txt"));
    assert.equal((await files.read("inner-link.txt")).content, "inside");
  });
});

Deno.test("files: '..', unknown mounts, ignored dirs and missing files get clear errors", async () => {
  await withWorkspace(async ({ ws }) => {
    const files = new WorkspaceFiles({ workspaceDir: ws, maxFileBytes: 1024 });
    await rejectsWith(files.read("../outside/secret.txt"), 403, /'\.\.'/);
    await rejectsWith(files.read("a/../../x"), 403, /'\.\.'/);
    await rejectsWith(files.write("../x.txt", "x"), 403);
    await rejectsWith(files.list("nope:/"), 404, /Unknown workspace mount 'nope'/);
    await rejectsWith(files.read("missing.txt"), 404, /not found/);
    await rejectsWith(files.write("no/such/dir/x.txt", "x"), 404, /Parent directory/);
    await Deno.mkdir(join(ws, ".git"));
    await Deno.writeTextFile(join(ws, ".git", "config"), "x");
    await rejectsWith(files.read(".git/config"), 403, /ignored/);
    await rejectsWith(files.write("node_modules/x.js", "x", { mkdirs: true }), 403, /ignored/);

    const noRoots = new WorkspaceFiles({ maxFileBytes: 10 });
    assert.equal(noRoots.available, false);
    await rejectsWith(noRoots.list("."), 404, /ABSTRACTGATEWAY_WORKSPACE_DIR/);
  });
});

Deno.test("files: size limits on read and write", async () => {
  await withWorkspace(async ({ ws }) => {
    const files = new WorkspaceFiles({ workspaceDir: ws, maxFileBytes: 10 });
    await Deno.writeTextFile(join(ws, "big.txt"), "x".repeat(11));
    await rejectsWith(files.read("big.txt"), 413, /11 bytes > 10 bytes/);
    await Deno.writeTextFile(join(ws, "five.txt"), "12345");
    await rejectsWith(files.read("five.txt", 4), 413);
    assert.equal((await files.read("five.txt", 5)).content, "12345");
    await rejectsWith(files.write("w.txt", "x".repeat(11)), 413);
    await assert.rejects(Deno.stat(join(ws, "w.txt")), Deno.errors.NotFound);
  });
});

Deno.test("files: write is atomic, refuses to clobber without overwrite and leaves no temp files", async () => {
  await withWorkspace(async ({ ws }) => {
    const files = new WorkspaceFiles({ workspaceDir: ws, maxFileBytes: 1024 * 1024 });
    assert.equal((await files.write("f.txt", "one")).created, true);
    await rejectsWith(files.write("f.txt", "two"), 409, /overwrite/);
    assert.equal(await Deno.readTextFile(join(ws, "f.txt")), "one");
    const replaced = await files.write("f.txt", "two", { overwrite: true });
    assert.equal(replaced.created, false);
    assert.equal(await Deno.readTextFile(join(ws, "f.txt")), "two");
    await Deno.mkdir(join(ws, "d"));
    await rejectsWith(files.write("d", "x", { overwrite: true }), 409, /directory/);

    // Concurrent writers: a reader sees one whole version, never a mix or a partial file.
    const a = "a".repeat(200_000);
    const b = "b".repeat(200_000);
    const writes = Array.from(
      { length: 10 },
      (_, i) => files.write("race.txt", i % 2 ? a : b, { overwrite: true }),
    );
    const reads: string[] = [];
    for (let i = 0; i < 10; i++) {
      const text = await Deno.readTextFile(join(ws, "race.txt")).catch(() => null);
      if (text !== null) reads.push(text);
    }
    await Promise.all(writes);
    for (const text of [...reads, await Deno.readTextFile(join(ws, "race.txt"))]) {
      assert.ok(text === a || text === b);
    }

    // Concurrent create-without-overwrite: exactly one wins.
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => files.write("once.txt", `writer ${i}`)),
    );
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    const names = (await Array.fromAsync(Deno.readDir(ws))).map((e) => e.name).sort();
    assert.deepEqual(names, ["d", "f.txt", "once.txt", "race.txt"]);
  });
});

Deno.test("files: directories and FIFOs are not read (no hang)", async () => {
  await withWorkspace(async ({ ws }) => {
    const files = new WorkspaceFiles({ workspaceDir: ws, maxFileBytes: 1024 });
    await Deno.mkdir(join(ws, "dir"));
    await rejectsWith(files.read("dir"), 400, /not a regular file/);
    const mk = await new Deno.Command("/usr/bin/mkfifo", { args: [join(ws, "pipe")] }).output();
    assert.equal(mk.code, 0);
    await rejectsWith(files.read("pipe"), 400, /not a regular file/);
    await rejectsWith(files.list("pipe"), 400, /not a directory/);
  });
});
