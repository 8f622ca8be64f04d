/**
 * Group commit under a real crash: a `gateway serve` subprocess takes many concurrent run starts
 * (their run saves, ledger appends and workflow snapshots share transactions / fsyncs), is killed
 * with SIGKILL while starts are in flight, and restarted on the same data dir: every start that was
 * answered 200 has its run, with its workflow snapshot (metadata and readable content), and the runner
 * finishes it — on both stores.
 */
import assert from "node:assert/strict";
import { bundlesEnv, startServe } from "../helpers/gateway_process.ts";
import { sandboxTempDir } from "../helpers/paths.ts";

const TOKEN = "start-crash-token";
const HEADERS = { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" };
const LANES = 24;

async function get(url: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/api/gateway${path}`, { headers: HEADERS });
  return { status: res.status, body: await res.json() };
}

/** Starts `hello` runs on LANES lanes until the server dies; pushes the run ids answered 200 to `acked`. */
async function startUntilKilled(url: string, acked: string[]): Promise<void> {
  await Promise.all(Array.from({ length: LANES }, async () => {
    for (;;) {
      try {
        const res = await fetch(`${url}/api/gateway/runs/start`, {
          method: "POST",
          headers: HEADERS,
          body: JSON.stringify({ bundle_id: "hello", input_data: { name: "crash" } }),
        });
        const body = await res.json();
        if (res.status === 200) acked.push(String(body.run_id));
      } catch {
        return; // the server died mid-request: that start was never acknowledged
      }
    }
  }));
}

for (const backend of ["file", "sqlite"]) {
  Deno.test(`${backend} store: every start acknowledged before a kill -9 has its run and snapshot`, async () => {
    const root = await sandboxTempDir("start-crash-");
    const env = { ...bundlesEnv(root, TOKEN), ABSTRACTGATEWAY_STORE_BACKEND: backend };
    try {
      const first = await startServe(env);
      const acked: string[] = [];
      const starting = startUntilKilled(first.url, acked);
      // Kill once a good number of starts were answered, with the lanes still sending.
      const deadline = Date.now() + 20_000;
      while (acked.length < 60 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await first.kill();
      await starting;
      assert.ok(acked.length > 0, "no start was acknowledged before the kill");

      const second = await startServe(env);
      try {
        for (const runId of acked) {
          const run = await get(second.url, `/runs/${runId}`);
          assert.equal(run.status, 200, `acknowledged run ${runId} is missing after the crash`);
          const artifacts = await get(second.url, `/runs/${runId}/artifacts`);
          const snapshot = (artifacts.body.items as { artifact_id: string; tags: Record<string, string> }[])
            .find((a) => a.tags.kind === "visualflow_json");
          assert.ok(snapshot, `run ${runId} lost its workflow snapshot`);
          const content = await fetch(
            `${second.url}/api/gateway/runs/${runId}/artifacts/${snapshot.artifact_id}/content`,
            { headers: HEADERS },
          );
          assert.equal(content.status, 200, `the snapshot content of run ${runId} is unreadable`);
          assert.ok(Array.isArray((await content.json()).nodes), `run ${runId}: the snapshot is not a flow`);
        }
        // The runner drives every acknowledged run to its end after the restart.
        const until = Date.now() + 30_000;
        for (const runId of acked) {
          let status = "";
          while (Date.now() < until) {
            status = String((await get(second.url, `/runs/${runId}`)).body.status);
            if (status === "completed") break;
            await new Promise((r) => setTimeout(r, 50));
          }
          assert.equal(status, "completed", `run ${runId} did not complete after the restart`);
        }
      } finally {
        await second.stop();
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });
}
