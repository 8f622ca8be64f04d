/**
 * Multi-node on PostgreSQL: two API processes (`serve --no-runner`) and three `runner` processes on
 * one database, all real subprocesses under the `gateway` permission set. Runs started on both API
 * nodes complete exactly once; cancels posted on either node are applied exactly once; an SSE client
 * on node A follows a run that the runners (other processes) advance; a runner killed with kill -9
 * mid-load loses its leases and the others finish its runs; PostgreSQL restarted mid-load loses no
 * acknowledged write (in-flight requests get a 503 and are retried by the client). Node A's readiness
 * lists all three runners (heartbeats in the database), and a bundle uploaded on node A (the flows
 * dir shared, as docs/operations.md prescribes) can be started through node B at once.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeBundle, startEndFlow, waitUntilFlow, writeBundle } from "../helpers/bundles.ts";
import { childEnv, type GatewayProcess, startServe } from "../helpers/gateway_process.ts";
import { MAIN_TS, REPO_ROOT, sandboxTempDir } from "../helpers/paths.ts";
import { PgCluster, pgTest } from "../helpers/postgres.ts";
import { type LineProcess, spawnLines } from "../runner/processes.ts";

const TOKEN = "multinode-token";
const RUNS = 500;
const CANCELS = 30;
const AUTH = { Authorization: `Bearer ${TOKEN}` };

/** POST/GET with retries on 503 (PostgreSQL restarting) and connection errors; returns the 200 JSON. */
async function call(url: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  for (let attempt = 0;; attempt++) {
    const res = await fetch(`${url}/api/gateway${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: body === undefined ? AUTH : { ...AUTH, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (res.status === 200) return json;
    assert.equal(res.status, 503, `${path}: ${res.status} ${JSON.stringify(json)}`);
    assert.match(String(json.detail), /Cannot reach PostgreSQL/);
    assert.ok(attempt < 200, `${path}: still 503 after ${attempt} attempts`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts a run on `url`, retrying while its bundle is not loaded there yet (404), at most 5 s. */
async function startOnceLoaded(url: string, body: unknown): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const res = await fetch(`${url}/api/gateway/runs/start`, {
      method: "POST",
      headers: { ...AUTH, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const json = await res.json();
    if (res.status === 200) return json;
    assert.ok(res.status === 404 && Date.now() < deadline, `start: ${res.status} ${JSON.stringify(json)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function pool<T>(items: T[], width: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  }));
}

Deno.test(
  pgTest("multi-node on PostgreSQL: 2 API nodes, 3 runners, kill -9 and a PostgreSQL restart lose nothing"),
  async () => {
    const cluster = await PgCluster.start();
    const dir = await sandboxTempDir("multinode-");
    const procs: LineProcess[] = [];
    const apis: GatewayProcess[] = [];
    try {
      const dbUrl = await cluster.createDatabase("multinode");
      const flows = join(dir, "flows");
      await writeBundle(flows, {
        bundleId: "demo",
        version: "0.0.1",
        flows: { root: waitUntilFlow("root", 1.5) },
      });
      const env = {
        ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN,
        ABSTRACTGATEWAY_STORE_BACKEND: "postgres",
        ABSTRACTGATEWAY_DATABASE_URL: dbUrl,
        ABSTRACTGATEWAY_LEASE_TTL_S: "2",
        ABSTRACTGATEWAY_DB_POOL_SIZE: "4",
      };
      const common = ["--data-dir", dir, "--flows-dir", flows];
      const startRunner = () =>
        spawnLines(Deno.execPath(), ["run", "-P=gateway", "--no-prompt", MAIN_TS, "runner", ...common], {
          cwd: REPO_ROOT,
          clearEnv: true,
          env: childEnv({ ...env, ABSTRACTGATEWAY_LOG_LEVEL: "info" }),
        });
      for (let i = 0; i < 3; i++) procs.push(startRunner());
      apis.push(...await Promise.all([0, 1].map(() => startServe(env, ["--no-runner", ...common]))));
      for (const r of procs) await r.waitFor("runner lock acquired", 30_000);
      const [a, b] = apis.map((api) => api.url);

      // Node A's readiness sees every runner, whichever process it is and whichever node asks.
      const ready = await (await fetch(`${a}/api/health/ready`)).json();
      assert.equal(ready.status, "ready", JSON.stringify(ready));
      const seen = ready.checks.runner.runners as { pid: number; host: string }[];
      assert.deepEqual(
        seen.map((r) => r.pid).sort(),
        procs.map((p) => p.child.pid).sort(),
        JSON.stringify(ready.checks.runner),
      );
      assert.ok(seen.every((r) => r.host === "127.0.0.1"));

      // A bundle uploaded on node A is startable through node B (B reloads on A's announcement).
      const form = new FormData();
      const uploaded = makeBundle({
        bundleId: "uploaded",
        version: "1.0.0",
        flows: { main: startEndFlow("main") },
      });
      form.append("file", new Blob([uploaded as Uint8Array<ArrayBuffer>]), "uploaded.flow");
      const up = await fetch(`${a}/api/gateway/bundles/upload`, {
        method: "POST",
        headers: AUTH,
        body: form,
      });
      assert.equal(up.status, 200, await up.clone().text());
      await up.body?.cancel();
      const viaB = await startOnceLoaded(b, { bundle_id: "uploaded", flow_id: "main", input_data: {} });

      // SSE on node A for a run started on node B: every step arrives, written by a runner process.
      const watched = await call(b, "/runs/start", { bundle_id: "demo", flow_id: "root", input_data: {} });
      const sse = fetch(`${a}/api/gateway/runs/${watched.run_id}/ledger/stream?after=0`, { headers: AUTH })
        .then((res) => res.text());

      // Start RUNS runs across both API nodes; kill -9 one runner and restart PostgreSQL mid-load.
      const runIds: string[] = new Array(RUNS);
      let killed = false;
      let restarted: Promise<void> | null = null;
      await pool([...Array(RUNS).keys()], 8, async (i) => {
        const started = await call(i % 2 ? a : b, "/runs/start", {
          bundle_id: "demo",
          flow_id: "root",
          input_data: {},
        });
        runIds[i] = String(started.run_id);
        if (i === Math.floor(RUNS / 3) && !killed) {
          killed = true;
          procs[0].child.kill("SIGKILL");
        }
        if (i === Math.floor(RUNS / 2) && !restarted) restarted = cluster.restart(300);
      });
      await restarted;

      // Cancels on both nodes while the runs wait: each is applied exactly once.
      const cancelled = runIds.slice(-CANCELS);
      const commandIds: string[] = [];
      await pool(cancelled, 8, async (runId, i) => {
        const command_id = `cancel-${runId}`;
        commandIds.push(command_id);
        await call(i % 2 ? a : b, "/commands", { command_id, run_id: runId, type: "cancel", payload: {} });
        // A retried POST (the client did not see the first answer) is a duplicate, not a second command.
        const again = await call(i % 2 ? b : a, "/commands", {
          command_id,
          run_id: runId,
          type: "cancel",
          payload: {},
        });
        assert.equal(again.duplicate, true);
      });

      // Every run reaches a terminal state once; cancelled ones never complete. Listed by status (a few
      // pages per round, alternating nodes) rather than one request per run.
      const deadline = Date.now() + 90_000;
      const mine = new Set(runIds);
      const final = new Map<string, Record<string, unknown>>();
      for (let round = 0; final.size < RUNS; round++) {
        const tails = procs.map((p) => p.lines.filter((l) => !l.includes('"info"')).slice(-5).join("\n"));
        assert.ok(
          Date.now() < deadline,
          `${RUNS - final.size} runs not finished; runners:\n${tails.join("\n--\n")}`,
        );
        for (const status of ["completed", "cancelled", "failed"]) {
          for (let cursor = "";;) {
            const page = await call(
              round % 2 ? a : b,
              `/runs?status=${status}&limit=500&include_ledger_len=false${cursor && `&cursor=${cursor}`}`,
            );
            for (const run of page.items as Record<string, unknown>[]) {
              if (mine.has(String(run.run_id))) final.set(String(run.run_id), run);
            }
            if (!page.next_cursor) break;
            cursor = encodeURIComponent(String(page.next_cursor));
          }
        }
        if (final.size < RUNS) await new Promise((r) => setTimeout(r, 300));
      }
      const cancelSet = new Set(cancelled);
      for (const [id, run] of final) {
        const expected = cancelSet.has(id) ? ["cancelled", "completed"] : ["completed"];
        assert.ok(expected.includes(String(run.status)), `${id}: ${run.status} ${run.error}`);
      }
      for (const command_id of commandIds) {
        const outcome = await call(a, `/commands/${command_id}`);
        assert.equal(
          (outcome.outcome as Record<string, unknown> | undefined)?.status ?? outcome.status,
          "applied",
        );
      }

      // No duplicated effect record: each run's ledger holds each step once.
      await pool(runIds, 8, async (id) => {
        const ledger = await call(b, `/runs/${id}/ledger?after=0&limit=1000`);
        const items = ledger.items as Record<string, unknown>[];
        // An effect re-executed by a second runner would repeat its idempotency key with the same status.
        const keys = items.filter((r) => r.idempotency_key).map((r) => `${r.idempotency_key}/${r.status}`);
        assert.equal(new Set(keys).size, keys.length, `${id}: duplicated effect records ${keys.join(", ")}`);
        const ends = items.filter((r) =>
          r.node_id === "end" && r.status === "completed" && r.effect === null
        );
        assert.ok(ends.length <= 1, `${id}: end node completed ${ends.length} times`);
      });

      assert.equal((await call(a, `/runs/${viaB.run_id}`)).status, "completed");
      const text = await sse;
      assert.match(text, /event: step/);
      assert.match(text, /event: done/);
      assert.ok(procs.slice(1).every((r) => r.lines.some((l) => l.includes("runner lock acquired"))));
    } finally {
      for (const api of apis) await api.stop();
      for (const p of procs) await p.close();
      await cluster.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
