/**
 * Exactly-once under real crashes: 1,000 `resume` commands (300 on the file backend), each
 * answering the wait of its own run, a wait that completes the run (resume_to_node null). A second
 * application would fail with "Run is not waiting" (a failed outcome); a skipped one leaves its run
 * waiting. Runners SIGKILL themselves at the points of the protocol where a crash could
 * double-apply or skip a command (see workers/runner_worker.ts); each time the runner already
 * waiting on the data-dir lock takes over and continues the stream. A second stream mixes failures
 * (recorded per batch) with applied commands, and checks every failure is recorded exactly once.
 */
import assert from "node:assert/strict";
import { RUNNER_CONSUMER, type StoreBackend } from "../../src/store/types.ts";
import type { RunState } from "../../src/runtime/types.ts";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { isoUtc } from "../../src/util/time.ts";
import { type Harness, openHarness, sleep } from "./harness.ts";
import { type LineProcess, spawnLines } from "./processes.ts";

const WORKER = new URL("./workers/runner_worker.ts", import.meta.url).pathname;
/** The file backend fsyncs a file per write; a shorter stream keeps the test fast. */
const COMMANDS = { sqlite: 1_000, file: 300 };
/** Runs of the batch-path test (four commands each). */
const BATCH_RUNS = { sqlite: 150, file: 60 };

function waitingRun(i: number): RunState {
  const now = isoUtc();
  const runId = `eo-run-${i}`;
  return {
    run_id: runId,
    workflow_id: "test:event_counter",
    status: "waiting",
    current_node: "wait",
    vars: {},
    waiting: {
      reason: "event",
      wait_key: `evt:session:eo-session-${i}:tick`,
      until: null,
      resume_to_node: null,
      result_key: "_temp.event",
      prompt: null,
      choices: null,
      allow_free_text: true,
      details: null,
    },
    output: null,
    error: null,
    created_at: now,
    updated_at: now,
    actor_id: "gateway",
    session_id: `eo-session-${i}`,
    parent_run_id: null,
  };
}

/** The file the worker creates when it crashes at `point`. */
const crashMarker = (dir: string, point: string) => join(dir, `crashed-${point.replace(":", "-")}`);

/** The process's exit status, or null when it is still running after `ms`. */
async function exitWithin(p: LineProcess, ms: number): Promise<Deno.CommandStatus | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  try {
    return await Promise.race([p.child.status, late]);
  } finally {
    clearTimeout(timer);
  }
}

function startWorker(dir: string, backend: StoreBackend, crashPoints: string[]): LineProcess {
  return spawnLines(Deno.execPath(), [
    "run",
    "-A",
    "--no-prompt",
    WORKER,
    dir,
    backend,
    crashPoints.join(","),
  ]);
}

/**
 * Runs the stream with a runner that dies at each of `crashPoints` (in stream order); each time the
 * runner already waiting on the data-dir lock takes over. Resolves once the cursor reaches `total`.
 */
async function surviveCrashes(
  h: Harness,
  backend: StoreBackend,
  crashPoints: string[],
  total: number,
  appendCommands: () => Promise<void>,
): Promise<void> {
  const workers: LineProcess[] = [];
  const start = () => {
    const w = startWorker(h.dir, backend, crashPoints);
    workers.push(w);
    return w;
  };
  try {
    let active = start();
    await active.waitFor("READY", 30_000);
    let standby = start();
    await standby.waitFor("STARTED", 30_000);
    await appendCommands();
    for (const point of crashPoints) {
      assert.equal((await exitWithin(active, 30_000))?.signal, "SIGKILL", `runner should die at ${point}`);
      assert.ok(existsSync(crashMarker(h.dir, point)), `the runner died, but not at ${point}`);
      await standby.waitFor("READY", 10_000); // the waiting runner takes over
      active = standby;
      standby = start();
      await standby.waitFor("STARTED", 30_000);
    }
    const deadline = Date.now() + 60_000;
    while ((await h.stores.commands.loadCursor(RUNNER_CONSUMER)) < total) {
      assert.ok(Date.now() < deadline, "the last runner did not finish the stream");
      await sleep(20);
    }
    for (const w of [standby, active]) {
      w.child.kill("SIGTERM");
      assert.equal((await w.child.status).code, 0);
      await w.waitFor("STOPPED", 1_000);
    }
  } finally {
    for (const w of workers) await w.close();
  }
}

const resumeCommand = (id: string, i: number, payload: Record<string, number>, waitKey: string) => ({
  command_id: id,
  run_id: `eo-run-${i}`,
  type: "resume" as const,
  payload: { payload, wait_key: waitKey },
  ts: isoUtc(),
  client_id: "test",
});

for (const backend of ["sqlite", "file"] as const) {
  Deno.test(`[${backend}] runners killed (-9) mid-stream: every command applied exactly once`, async () => {
    const total = COMMANDS[backend];
    // Seq order: before it is resumed, after the run was resumed, before the batch's outcomes.
    const crashPoints = [`resume:${total * 0.3}`, `finish:${total * 0.5}`, `complete:${total * 0.7}`];
    const h = await openHarness(backend, { startRunner: false });
    try {
      for (let i = 0; i < total; i++) await h.stores.runs.save(waitingRun(i));
      await surviveCrashes(h, backend, crashPoints, total, async () => {
        for (let i = 0; i < total; i++) {
          await h.stores.commands.append(
            resumeCommand(`eo-cmd-${i}`, i, { n: i }, `evt:session:eo-session-${i}:tick`),
          );
        }
      });
      for (let i = 0; i < total; i++) {
        const outcome = await h.stores.commands.getOutcome(`eo-cmd-${i}`);
        assert.equal(outcome?.status, "applied", `command ${i}: ${JSON.stringify(outcome)}`);
        const run = (await h.stores.runs.load(`eo-run-${i}`))!;
        assert.equal(run.status, "completed", `run ${i} is ${run.status}`);
        assert.deepEqual(run.output?.result, { n: i });
      }
    } finally {
      await h.dispose();
    }
  });

  /**
   * The batch path: failures judged in memory are written per run and batch (one run save with a
   * pending mark over their seqs, one ledger append), then the batch's outcomes. Per run, in seq
   * order: two resumes with a wrong wait_key (failed), the right one (applied), one more (failed:
   * the run is no longer waiting). Every failure is recorded exactly once in its run's ledger.
   */
  Deno.test(`[${backend}] runners killed (-9) mid-batch of failures: each failure recorded exactly once`, async () => {
    const runs = BATCH_RUNS[backend];
    const bad = (round: number, i: number) => `eo-bad-${round}-${i}`;
    const seqOf = (block: number, i: number) => block * runs + i + 1;
    // Seq order: run saved with the batch's pending mark (records not appended), records appended
    // (outcomes not recorded), a batch mixing applied commands and failures not recorded.
    const crashPoints = [
      `marked:${seqOf(0, 5)}`,
      `failures:command:${bad(1, 20)}`,
      `complete:${seqOf(2, 30) - 1}`,
      `failures:command:eo-late-40`,
    ];
    const h = await openHarness(backend, { startRunner: false });
    try {
      for (let i = 0; i < runs; i++) await h.stores.runs.save(waitingRun(i));
      const key = (i: number) => `evt:session:eo-session-${i}:tick`;
      const blocks = [
        (i: number) => resumeCommand(bad(0, i), i, { bad: 0 }, "evt:session:elsewhere:tick"),
        (i: number) => resumeCommand(bad(1, i), i, { bad: 1 }, "evt:session:elsewhere:tick"),
        (i: number) => resumeCommand(`eo-cmd-${i}`, i, { n: i }, key(i)),
        (i: number) => resumeCommand(`eo-late-${i}`, i, { late: i }, key(i)),
      ];
      await surviveCrashes(h, backend, crashPoints, blocks.length * runs, async () => {
        for (const block of blocks) {
          await Promise.all(Array.from({ length: runs }, (_, i) => h.stores.commands.append(block(i))));
        }
      });
      for (let i = 0; i < runs; i++) {
        const failed = [bad(0, i), bad(1, i), `eo-late-${i}`];
        for (const id of failed) {
          const outcome = await h.stores.commands.getOutcome(id);
          assert.equal(outcome?.status, "failed", `${id}: ${JSON.stringify(outcome)}`);
        }
        assert.equal((await h.stores.commands.getOutcome(`eo-cmd-${i}`))?.status, "applied");
        const run = (await h.stores.runs.load(`eo-run-${i}`))!;
        assert.deepEqual([run.status, run.output?.result], ["completed", { n: i }], `run ${i}`);
        const keys = (await h.stores.ledger.read(`eo-run-${i}`, 0, 100)).items
          .map((r) => r.idempotency_key).filter((k) => k?.startsWith("command:"));
        assert.deepEqual(keys, failed.map((id) => `command:${id}`), `run ${i}'s failure records`);
      }
    } finally {
      await h.dispose();
    }
  });
}
