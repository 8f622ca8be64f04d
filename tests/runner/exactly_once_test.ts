/**
 * Exactly-once under real crashes: 1,000 `resume` commands (300 on the file backend), each
 * answering the wait of its own run, a wait that completes the run (resume_to_node null). A second
 * application would fail with "Run is not waiting" (a failed outcome); a skipped one leaves its run
 * waiting. Runners SIGKILL themselves at the three points of the protocol where a crash could
 * double-apply or skip a command (see workers/runner_worker.ts); each time the runner already
 * waiting on the data-dir lock takes over and continues the stream.
 */
import assert from "node:assert/strict";
import { RUNNER_CONSUMER, type StoreBackend } from "../../src/store/types.ts";
import type { RunState } from "../../src/runtime/types.ts";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { isoUtc } from "../../src/util/time.ts";
import { openHarness, sleep } from "./harness.ts";
import { type LineProcess, spawnLines } from "./processes.ts";

const WORKER = new URL("./workers/runner_worker.ts", import.meta.url).pathname;
/** The file backend fsyncs a file per write; a shorter stream keeps the test fast. */
const COMMANDS = { sqlite: 1_000, file: 300 };

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

for (const backend of ["sqlite", "file"] as const) {
  Deno.test(`[${backend}] runners killed (-9) mid-stream: every command applied exactly once`, async () => {
    const total = COMMANDS[backend];
    // Seq order: after the outcome is due, after the run was resumed, before it is resumed.
    const crashPoints = [`complete:${total * 0.3}`, `finish:${total * 0.5}`, `resume:${total * 0.7}`];
    const h = await openHarness(backend, { startRunner: false });
    const workers: LineProcess[] = [];
    const start = () => {
      const w = startWorker(h.dir, backend, crashPoints);
      workers.push(w);
      return w;
    };
    try {
      for (let i = 0; i < total; i++) await h.stores.runs.save(waitingRun(i));
      let active = start();
      await active.waitFor("READY", 30_000);
      let standby = start();
      await standby.waitFor("STARTED", 30_000);
      for (let i = 0; i < total; i++) {
        await h.stores.commands.append({
          command_id: `eo-cmd-${i}`,
          run_id: `eo-run-${i}`,
          type: "resume",
          payload: { payload: { n: i }, wait_key: `evt:session:eo-session-${i}:tick` },
          ts: isoUtc(),
          client_id: "test",
        });
      }
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
      for (let i = 0; i < total; i++) {
        const outcome = await h.stores.commands.getOutcome(`eo-cmd-${i}`);
        assert.equal(outcome?.status, "applied", `command ${i}: ${JSON.stringify(outcome)}`);
        const run = (await h.stores.runs.load(`eo-run-${i}`))!;
        assert.equal(run.status, "completed", `run ${i} is ${run.status}`);
        assert.deepEqual(run.output?.result, { n: i });
      }
      for (const w of [standby, active]) {
        w.child.kill("SIGTERM");
        assert.equal((await w.child.status).code, 0);
        await w.waitFor("STOPPED", 1_000);
      }
    } finally {
      for (const w of workers) await w.close();
      await h.dispose();
    }
  });
}
