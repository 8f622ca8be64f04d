import assert from "node:assert/strict";
import { join } from "node:path";
import type { ToolingError } from "../../src/tooling/errors.ts";
import { ReportInbox } from "../../src/tooling/reports.ts";

async function withInbox(fn: (inbox: ReportInbox, dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "gw-reports-" });
  try {
    await fn(new ReportInbox(dataDir), dataDir);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

Deno.test("reports: submit, get, list with filters, update status with history", async () => {
  await withInbox(async (inbox, dataDir) => {
    const bug = await inbox.submit({
      kind: "bug",
      title: "Ledger stream stops after 5 min!",
      body: "Steps:\n1. start a run",
      reporter: "alice",
      context: { run_id: "r1" },
    });
    assert.match(bug.id, /^bug-\d{8}-\d{6}-ledger-stream-stops-after-5-min$/);
    assert.equal(bug.status, "new");
    const feature = await inbox.submit({ kind: "feature", title: "Dark mode", body: "please" });

    assert.deepEqual(await inbox.get(bug.id), bug);
    const md = await Deno.readTextFile(join(dataDir, "reports", `${bug.id}.md`));
    assert.match(md, /^# Ledger stream stops after 5 min!\n/);
    assert.match(md, /"run_id": "r1"/);

    const all = await inbox.list();
    assert.deepEqual(all.items.map((r) => r.id).sort(), [bug.id, feature.id].sort());
    assert.equal("body" in all.items[0], false, "listings carry summaries");
    assert.deepEqual((await inbox.list({ kind: "feature" })).items.map((r) => r.id), [feature.id]);

    const triaged = await inbox.updateStatus(bug.id, "triaged", "repro confirmed");
    assert.equal(triaged.status, "triaged");
    assert.deepEqual(triaged.history.map((h) => [h.status, h.note]), [["new", null], [
      "triaged",
      "repro confirmed",
    ]]);
    assert.deepEqual((await inbox.list({ status: "triaged" })).items.map((r) => r.id), [bug.id]);
    assert.equal((await inbox.list({ status: "new" })).items.length, 1);
    assert.match(
      await Deno.readTextFile(join(dataDir, "reports", `${bug.id}.md`)),
      /triaged: repro confirmed/,
    );
  });
});

Deno.test("reports: same-second submissions with one title get distinct ids; concurrent updates keep all history", async () => {
  await withInbox(async (inbox) => {
    const reports = await Promise.all(
      Array.from({ length: 5 }, () => inbox.submit({ kind: "bug", title: "Same title", body: "x" })),
    );
    assert.equal(new Set(reports.map((r) => r.id)).size, 5);
    assert.equal((await inbox.list()).items.length, 5);

    const id = reports[0].id;
    await Promise.all(["triaged", "accepted", "done"].map((s) => inbox.updateStatus(id, s as "done")));
    assert.equal((await inbox.get(id)).history.length, 4);
  });
});

Deno.test("reports: unknown or malformed ids are 404; a corrupt file is named in errors", async () => {
  await withInbox(async (inbox, dataDir) => {
    for (const id of ["nope", "../etc/passwd", "A"]) {
      await assert.rejects(inbox.get(id), (e: ToolingError) => e.status === 404);
    }
    await assert.rejects(inbox.updateStatus("nope", "done"), (e: ToolingError) => e.status === 404);
    assert.deepEqual(await inbox.list(), { items: [], errors: [] });
    await inbox.submit({ kind: "feature", title: "ok", body: "fine" });
    await Deno.writeTextFile(join(dataDir, "reports", "broken.json"), "{");
    const listed = await inbox.list();
    assert.equal(listed.items.length, 1);
    assert.equal(listed.errors.length, 1);
    assert.match(listed.errors[0].file, /broken\.json$/);
  });
});
