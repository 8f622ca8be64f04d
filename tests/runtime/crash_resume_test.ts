/** kill -9 a worker mid-run, restart it on the same data dir: same result, no effect executed twice. */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { JsonObject } from "../../src/runtime/types.ts";
import { sandboxTempDir } from "../helpers/paths.ts";
import { CRASH_RUN_ID, SLOW_RUN_ID, slowSpec } from "./crash_flow.ts";
import { ledgerOf, openHarness } from "./harness.ts";

const WORKER = fileURLToPath(new URL("./crash_worker.ts", import.meta.url));

function spawnWorker(dir: string, mode: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", WORKER, dir, mode],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

/** Reads stdout lines until `marker` appears; returns the rest of the stream unread. */
async function waitFor(
  child: Deno.ChildProcess,
  marker: string,
): Promise<ReadableStreamDefaultReader<string>> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes(marker)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`worker exited before printing ${marker}: ${seen}`);
    seen += value;
  }
  return reader;
}

Deno.test("a worker killed mid-run resumes from the checkpoint to the same result without re-running effects", async () => {
  const dir = await sandboxTempDir("crash-");
  try {
    const first = spawnWorker(dir, "start");
    const reader = await waitFor(first, "WAITING");
    first.kill("SIGKILL");
    await first.status;
    await reader.cancel();

    const second = spawnWorker(dir, "continue");
    const reader2 = await waitFor(second, "DONE");
    await reader2.cancel();
    assert.equal((await second.status).code, 0);

    const h = await openHarness({ dir });
    try {
      const root = (await h.stores.runs.load(CRASH_RUN_ID))!;
      assert.equal(root.status, "completed");
      assert.deepEqual(root.output, {
        greeting: "Ada",
        child: { echo: 7, success: true },
        success: true,
      });
      const children = await h.stores.runs.listChildren(CRASH_RUN_ID);
      assert.equal(children.length, 1, "the subflow child was started once");
      for (const runId of [CRASH_RUN_ID, children[0].run_id]) {
        const ledger = await ledgerOf(h, runId);
        const started = new Map<string, number>();
        for (const r of ledger) {
          if (r.status === "started") {
            started.set(r.idempotency_key!, (started.get(r.idempotency_key!) ?? 0) + 1);
          }
        }
        for (const [key, n] of started) assert.equal(n, 1, `effect ${key} started ${n} times in ${runId}`);
      }
      assert.deepEqual(
        (await ledgerOf(h, CRASH_RUN_ID)).map((r) => [r.node_id, r.status, r.effect?.type ?? null]),
        [
          ["hello", "started", "answer_user"],
          ["hello", "completed", "answer_user"],
          ["nap", "started", "wait_until"],
          ["nap", "waiting", "wait_until"],
          ["sub", "started", "start_subworkflow"],
          ["sub", "waiting", "start_subworkflow"],
          ["sub", "completed", "resume"],
          ["bye", "started", "answer_user"],
          ["bye", "completed", "answer_user"],
          ["end", "completed", null],
          ["end", "completed", "emit_event"],
        ],
      );
      assert.deepEqual(
        (await ledgerOf(h, CRASH_RUN_ID)).filter((r) =>
          r.effect?.type === "answer_user" && r.status === "completed"
        )
          .map((r) => (r.result as JsonObject).message),
        ["Ada", "bye"],
      );
    } finally {
      await h.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an effect interrupted by kill -9 is finished under its original step id (one started record)", async () => {
  const dir = await sandboxTempDir("crash-");
  try {
    const first = spawnWorker(dir, "slow-start");
    const reader = await waitFor(first, "IN_EFFECT");
    first.kill("SIGKILL");
    await first.status;
    await reader.cancel();

    const second = spawnWorker(dir, "slow-continue");
    const reader2 = await waitFor(second, "DONE");
    await reader2.cancel();
    assert.equal((await second.status).code, 0);

    const h = await openHarness({ dir, specs: new Map([["slow", slowSpec()]]) });
    try {
      const run = (await h.stores.runs.load(SLOW_RUN_ID))!;
      assert.equal(run.status, "completed");
      assert.deepEqual(run.output, { job: "rendered" });
      const ledger = await ledgerOf(h, SLOW_RUN_ID);
      assert.deepEqual(ledger.map((r) => [r.node_id, r.status]), [
        ["work", "started"],
        ["work", "completed"],
        ["finish", "completed"],
        ["finish", "completed"],
      ]);
      assert.equal(ledger[0].step_id, ledger[1].step_id);
      assert.equal(ledger[0].started_at, ledger[1].started_at);
    } finally {
      await h.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
