/**
 * Test worker: a real Runner (real stores, WorkflowRuntime with the test specs) on the data dir
 * argv[0] with backend argv[1]. Prints `STARTED` (it may still wait for the lock), `READY <pid>`
 * once it holds the lock, and `STOPPED` after SIGTERM.
 *
 * argv[2] (optional) lists crash points for the resume command carrying payload `{n}` (seq n+1):
 * `resume:<n>` (pending mark saved, run not resumed yet), `finish:<n>` (run resumed and saved,
 * outcome not recorded yet) and `complete:<n>` (the batch holding it applied, its outcomes not
 * recorded yet), plus `failures:command:<command_id>` (the failure record of that command appended
 * with its batch's, outcomes not recorded yet) and `marked:<seq>` (the run saved with a batch's
 * pending mark covering that seq, failure records not appended yet). There the worker SIGKILLs itself — a real kill -9 at an exact
 * point of the exactly-once protocol. Each point fires once per data dir (a marker file remembers
 * it), so the next runner gets past it.
 */
import { join } from "node:path";
import { openBundleHost } from "../../../src/bundles/host.ts";
import { Runner } from "../../../src/runner/runner.ts";
import type { ResumeOptions } from "../../../src/runtime/runtime.ts";
import { WorkflowRuntime } from "../../../src/runtime/workflow_runtime.ts";
import { openStores } from "../../../src/store/open.ts";
import type { CommandOutcome, StoreBackend, Stores } from "../../../src/store/types.ts";
import { setLogLevel } from "../../../src/util/log.ts";
import { testConfig } from "../harness.ts";
import { TEST_EFFECTS, TEST_SPECS } from "../specs.ts";

const [dir, backend, crashSpec = ""] = Deno.args as [string, StoreBackend, string?];
const crashPoints = new Set(crashSpec.split(",").filter(Boolean));

function crashAt(point: string): void {
  if (!crashPoints.has(point)) return;
  try {
    Deno.writeTextFileSync(join(dir, `crashed-${point.replace(":", "-")}`), "", { createNew: true });
  } catch {
    return; // already crashed here once
  }
  Deno.kill(Deno.pid, "SIGKILL");
}

const config = testConfig(dir, backend);
setLogLevel(config.logLevel);
const opened = await openStores({ backend, dataDir: dir, dbPath: config.dbPath });
const commands = opened.commands;
const stores: Stores = {
  ...opened,
  backend: opened.backend,
  runs: {
    load: (id) => opened.runs.load(id),
    status: (id) => opened.runs.status(id),
    list: (q) => opened.runs.list(q),
    listRunnable: (now, limit, exclude) => opened.runs.listRunnable(now, limit, exclude),
    nextWaitUntil: () => opened.runs.nextWaitUntil(),
    listChildren: (id) => opened.runs.listChildren(id),
    delete: (id) => opened.runs.delete(id),
    save: async (run) => {
      const marks = (run.vars._runtime as { commands?: { pending: { seq: number; first?: number } | null } })
        ?.commands;
      await opened.runs.save(run);
      const pending = marks?.pending;
      if (pending && run.status === "completed") crashAt(`finish:${pending.seq - 1}`);
      for (let seq = pending?.first ?? pending?.seq ?? 1; seq <= (pending?.seq ?? 0); seq++) {
        crashAt(`marked:${seq}`);
      }
    },
  },
  ledger: {
    append: async (runId, records) => {
      const length = await opened.ledger.append(runId, records);
      for (const r of records) crashAt(`failures:${r.idempotency_key}`);
      return length;
    },
    read: (runId, after, limit) => opened.ledger.read(runId, after, limit),
    count: (runId) => opened.ledger.count(runId),
    delete: (runId) => opened.ledger.delete(runId),
  },
  artifacts: opened.artifacts,
  wake: opened.wake,
  close: () => opened.close(),
  commands: {
    append: (c) => commands.append(c),
    listAfter: (after, limit) => commands.listAfter(after, limit),
    get: (id) => commands.get(id),
    lastSeq: () => commands.lastSeq(),
    loadCursor: (consumer) => commands.loadCursor(consumer),
    getOutcome: (id) => commands.getOutcome(id),
    complete: (outcome: CommandOutcome, consumer?: string) => {
      crashAt(`complete:${outcome.seq - 1}`);
      return commands.complete(outcome, consumer);
    },
    completeMany: (outcomes: CommandOutcome[], consumer?: string) => {
      for (const outcome of outcomes) crashAt(`complete:${outcome.seq - 1}`);
      return commands.completeMany(outcomes, consumer);
    },
  },
};
const bundles = await openBundleHost({
  flowsDir: config.flowsDir,
  dataDir: dir,
  maxBundleBytes: config.maxBundleBytes,
});
class CrashingRuntime extends WorkflowRuntime {
  override resume(runId: string, options: ResumeOptions) {
    crashAt(`resume:${options.payload.n}`);
    return super.resume(runId, options);
  }
}
const runtime = new CrashingRuntime({
  stores,
  workflows: bundles,
  config,
  specs: TEST_SPECS,
  effectHandlers: TEST_EFFECTS,
});
const runner = new Runner({ config, stores, runtime, bundles });

const stopped = Promise.withResolvers<void>();
Deno.addSignalListener("SIGTERM", () => stopped.resolve());
await runner.start();
console.log("STARTED");
runner.ready.then((ok) => ok && console.log(`READY ${Deno.pid}`));
await stopped.promise;
await runner.stop();
await stores.close();
console.log("STOPPED");
