/**
 * Runner liveness (issue 17): one command the runner cannot apply must never stop every run. Each
 * case goes through the HTTP API of a real gateway with its in-process runner, on both stores.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { askUserFlow } from "../helpers/bundles.ts";
import { DEMO, postJson, startRun, startServer, type TestServer, waitForRun } from "../http/harness.ts";

const ASK = { bundleId: "ask", version: "1.0.0", flows: { root: askUserFlow("root") } };
const command = (s: TestServer, body: Record<string, unknown>) =>
  s.json("/api/gateway/commands", postJson(body));

async function settled(s: TestServer, id: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { body } = await s.json(`/api/gateway/commands/${encodeURIComponent(id)}`);
    if (body.status !== "pending") return body;
    if (Date.now() > deadline) throw new Error(`command ${id} still pending: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

/** Starts an ask-user run, resumes it with a command and asserts the command applied and the run ended. */
async function assertRunnerLive(s: TestServer, commandId: string): Promise<void> {
  const runId = await startRun(s, { bundle_id: "ask" });
  const waiting = await waitForRun(s, runId, (r) => r.status === "waiting");
  const res = await command(s, {
    command_id: commandId,
    run_id: runId,
    type: "resume",
    payload: { wait_key: waiting.waiting.wait_key, payload: { response: "hi" } },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal((await settled(s, commandId)).status, "applied");
  assert.equal((await waitForRun(s, runId)).status, "completed");
}

for (const backend of ["file", "sqlite"]) {
  const env = { ABSTRACTGATEWAY_STORE_BACKEND: backend };

  Deno.test(`${backend} store: an emit_event to session "a/b" first after start does not stop the runner`, async () => {
    const s = await startServer({ bundles: [DEMO, ASK], env, runner: false });
    try {
      const poison = await command(s, {
        command_id: "evt-ab",
        run_id: "a/b",
        type: "emit_event",
        payload: { name: "go" },
      });
      assert.equal(poison.status, 200, JSON.stringify(poison.body));
      await s.restart(0, true); // now with the runner: the poison is the first command it sees
      assert.equal((await settled(s, "evt-ab")).status, "applied");
      await assertRunnerLive(s, "after-ab");
      await s.restart(0, true); // and across a restart
      await assertRunnerLive(s, "after-restart");
    } finally {
      await s.close();
    }
  });

  Deno.test(`${backend} store: ids with NUL, control characters or over 200 bytes are refused at the door`, async () => {
    const s = await startServer({ bundles: [DEMO, ASK], env, runner: false });
    try {
      const bad = ["\u0000", "a\u0000b", "x\ny", "\u007f", "é".repeat(101)];
      for (const id of bad) {
        const res = await command(s, {
          command_id: id,
          run_id: "r",
          type: "emit_event",
          payload: { name: "n" },
        });
        assert.equal(res.status, 400, `command_id ${JSON.stringify(id)}: ${JSON.stringify(res.body)}`);
        const res2 = await command(s, {
          command_id: "ok",
          run_id: id,
          type: "emit_event",
          payload: { name: "n" },
        });
        assert.equal(res2.status, 400, `run_id ${JSON.stringify(id)}: ${JSON.stringify(res2.body)}`);
        const path = await s.json(`/api/gateway/commands/${encodeURIComponent(id)}`);
        assert.equal(path.status, 400, `path ${JSON.stringify(id)}: ${JSON.stringify(path.body)}`);
      }
      // Long names that become file names are a 400, not "File name too long".
      for (const path of ["/runs/", "/runs/x/ledger?after=0&id=", "/bundles/"]) {
        const res = await s.json(`/api/gateway${path.replace(/\?.*/, "")}${"r".repeat(300)}`);
        assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.body)}`);
      }
      const start = await s.json("/api/gateway/runs/start", postJson({ bundle_id: "b".repeat(300) }));
      assert.equal(start.status, 400, JSON.stringify(start.body));
    } finally {
      await s.close();
    }
  });
}

Deno.test("sqlite store: a stored command whose outcome cannot be recorded is failed or skipped, later ones apply", async () => {
  const env = { ABSTRACTGATEWAY_STORE_BACKEND: "sqlite" };
  const s = await startServer({ bundles: [DEMO, ASK], env, runner: false });
  try {
    // What a NUL command_id became before the door checked ids: read back as "" by SQLite.
    await command(s, { command_id: "seed", run_id: "s", type: "emit_event", payload: { name: "n" } });
    const db = new DatabaseSync(s.gw.config.dbPath);
    db.prepare("UPDATE commands SET command_id = '' WHERE command_id = 'seed'").run();
    db.close();
    await s.restart(0, true);
    await assertRunnerLive(s, "after-empty-id");
  } finally {
    await s.close();
  }
});
