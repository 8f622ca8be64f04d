import assert from "node:assert/strict";
import { join } from "node:path";
import { type AuditEntry, auditHeaders, AuditLog, redactQuery } from "../../src/security/audit.ts";
import { setLogLevel } from "../../src/util/log.ts";

function entry(n: number): AuditEntry {
  return {
    ts: "2026-01-01T00:00:00.000000+00:00",
    request_id: `r${n}`,
    ip: "127.0.0.1",
    method: "POST",
    path: "/api/gateway/commands",
    query: "",
    status: 200,
    duration_ms: 1,
    auth_required: true,
  };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gw-audit-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("entries are appended in order as one JSON line each, file mode 0600", async () => {
  await withDir(async (dir) => {
    const log = new AuditLog({ dataDir: join(dir, "nested"), maxBytes: 0, rotations: 3 });
    for (let i = 0; i < 200; i++) log.record(entry(i));
    await log.flush();
    const lines = (await Deno.readTextFile(log.path)).trimEnd().split("\n");
    assert.equal(lines.length, 200);
    assert.deepEqual(
      lines.map((l) => JSON.parse(l).request_id),
      Array.from({ length: 200 }, (_, i) => `r${i}`),
    );
    assert.ok(!lines[0].includes(": "), "compact separators");
    assert.equal((await Deno.stat(log.path)).mode! & 0o777, 0o600);
  });
});

Deno.test("size-based rotation keeps the newest N rotated files", async () => {
  await withDir(async (dir) => {
    const log = new AuditLog({ dataDir: dir, maxBytes: 300, rotations: 2 });
    for (let i = 0; i < 40; i++) {
      log.record(entry(i));
      await log.flush(); // one append per entry, so rotation is checked before each
    }
    const rotated = await log.rotatedFiles();
    assert.equal(rotated.length, 2);
    for (const name of rotated) assert.match(name, /^audit_log\.\d{8}T\d{6}\.\d{3}Z(\.\d+)?\.jsonl$/);
    const current = (await Deno.readTextFile(log.path)).trimEnd().split("\n");
    assert.equal(JSON.parse(current.at(-1)!).request_id, "r39", "the newest entry is in the live file");
    assert.ok((await Deno.stat(log.path)).size < 300 + 250);
  });
});

Deno.test("tail returns whole newest lines and says when it truncated", async () => {
  await withDir(async (dir) => {
    const log = new AuditLog({ dataDir: dir, maxBytes: 0, rotations: 1 });
    assert.deepEqual(await log.tail(1000), { ok: true, bytes: 0, truncated: false, content: "" });
    for (let i = 0; i < 50; i++) log.record(entry(i));
    const all = await log.tail(1_000_000);
    assert.equal(all.truncated, false);
    assert.equal(all.content.split("\n").filter(Boolean).length, 50);
    const lineBytes = new TextEncoder().encode(all.content.split("\n").at(-2) + "\n").byteLength; // r49: all r10..r49 lines have this length
    const some = await log.tail(lineBytes * 3);
    assert.equal(some.truncated, true);
    const lines = some.content.split("\n").filter(Boolean);
    assert.equal(lines.length, 3, "a line starting exactly at the cut is kept");
    assert.equal(JSON.parse(lines[2]).request_id, "r49");
    const partial = await log.tail(lineBytes * 3 - 5);
    assert.equal(partial.content.split("\n").filter(Boolean).length, 2, "the cut line is dropped");
    assert.equal(partial.bytes, new TextEncoder().encode(partial.content).byteLength);
  });
});

Deno.test("I/O errors are swallowed: recording never throws into the caller", async () => {
  await withDir(async (dir) => {
    const blocker = join(dir, "file");
    await Deno.writeTextFile(blocker, "not a dir");
    const log = new AuditLog({ dataDir: join(blocker, "sub"), maxBytes: 0, rotations: 1 });
    setLogLevel("none");
    try {
      log.record(entry(1));
      await log.flush();
      log.record(entry(2)); // the queue keeps working after a failure
      await log.flush();
    } finally {
      setLogLevel("info");
    }
  });
});

Deno.test("query keys are kept, values redacted; credentials never copied from headers", () => {
  assert.equal(redactQuery("?token=abc&b=2&b=3"), "token=<redacted>&b=<redacted>&b=<redacted>");
  assert.equal(redactQuery(""), "");
  const many = "?" + Array.from({ length: 80 }, (_, i) => `k${i}=v`).join("&");
  assert.equal(redactQuery(many).split("&").length, 50);
  const headers = new Headers({ authorization: "Bearer x", cookie: "s=1", "x-client-id": "c" });
  assert.deepEqual(auditHeaders(headers, ["Authorization", "cookie", "x-client-id", "x-missing"]), {
    "x-client-id": "c",
  });
});
