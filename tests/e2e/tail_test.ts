/** `gateway tail <run_id>` as a subprocess against a real `gateway serve` subprocess. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type GatewayProcess, runGateway, spawnGateway, startServe } from "../helpers/gateway_process.ts";
import { apiJson, type Json, waitRunStatus } from "../helpers/gateway_api.ts";
import { REPO_ROOT, sandboxTempDir } from "../helpers/paths.ts";
import { freePort } from "../helpers/free_port.ts";

const TOKEN = "tail-e2e-token-0123456789abcdef";

async function withServe(fn: (gw: GatewayProcess) => Promise<void>): Promise<void> {
  const data = await sandboxTempDir("tail-");
  try {
    const gw = await startServe({
      ABSTRACTGATEWAY_DATA_DIR: data,
      ABSTRACTGATEWAY_FLOWS_DIR: join(REPO_ROOT, "bundles"),
      ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN,
      ABSTRACTGATEWAY_POLL_S: "0.05",
    });
    try {
      await fn(gw);
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  } finally {
    await Deno.remove(data, { recursive: true });
  }
}

const api = (gw: GatewayProcess, path: string, body?: unknown): Promise<Json> =>
  apiJson(gw.url, TOKEN, path, body);
const waitStatus = (gw: GatewayProcess, runId: string, status: string): Promise<Json> =>
  waitRunStatus(gw.url, TOKEN, runId, status);

const ledger = async (gw: GatewayProcess, runId: string): Promise<Json[]> =>
  (await api(gw, `/runs/${runId}/ledger?after=0&limit=1000`)).items;

const lines = (text: string) => text.split("\n").filter((l) => l !== "");

/** Reads a child's stdout as it arrives; `until(pred)` waits for the text so far to satisfy `pred`. */
function watch(child: Deno.ChildProcess) {
  let text = "";
  const waiters: { pred: (t: string) => boolean; resolve: () => void }[] = [];
  const done = child.stdout.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({
      write(chunk) {
        text += chunk;
        for (const w of waiters.filter((w) => w.pred(text))) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      },
    }),
  );
  return {
    text: () => text,
    done,
    async until(pred: (t: string) => boolean, ms = 10_000): Promise<void> {
      if (pred(text)) return;
      const w = { pred, resolve: () => {} };
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          w.resolve = resolve;
          waiters.push(w);
          timer = setTimeout(() => reject(new Error(`tail output never matched; got:\n${text}`)), ms);
        });
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

Deno.test("tail: prints a finished hello run's records and exits 0", async () => {
  await withServe(async (gw) => {
    const { run_id } = await api(gw, "/runs/start", {
      bundle_id: "hello",
      flow_id: "hello",
      input_data: { name: "Ada" },
    });
    await waitStatus(gw, run_id, "completed");
    const records = await ledger(gw, run_id);

    const out = await runGateway(["tail", run_id, "--url", gw.url, "--token", TOKEN]);
    assert.equal(out.code, 0, out.stderr);
    const printed = lines(out.stdout);
    assert.equal(printed.length, records.length);
    printed.forEach((line, i) => {
      assert.ok(line.startsWith(`#${i + 1} ${records[i].status} `), line);
      assert.ok(line.includes(records[i].node_id), line);
    });
    assert.match(printed[0], /^#1 completed /);
    assert.ok(out.stdout.includes("Hello, Ada"), out.stdout);

    const skip = await runGateway(["tail", run_id, "--url", gw.url, "--token", TOKEN, "--after", "1"]);
    assert.equal(skip.code, 0, skip.stderr);
    assert.deepEqual(lines(skip.stdout), printed.slice(1));

    // URL and token from the environment.
    const env = await runGateway(["tail", run_id], {
      ABSTRACTGATEWAY_URL: gw.url,
      ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN,
    });
    assert.equal(env.code, 0, env.stderr);
    assert.deepEqual(lines(env.stdout), printed);
  });
});

Deno.test("tail --json prints {cursor, record} lines equal to the ledger", async () => {
  await withServe(async (gw) => {
    const { run_id } = await api(gw, "/runs/start", { bundle_id: "hello", flow_id: "hello" });
    await waitStatus(gw, run_id, "completed");
    const out = await runGateway(["tail", run_id, "--url", gw.url, "--token", TOKEN, "--json"]);
    assert.equal(out.code, 0, out.stderr);
    const parsed = lines(out.stdout).map((l) => JSON.parse(l));
    const records = await ledger(gw, run_id);
    assert.deepEqual(parsed, records.map((record, i) => ({ cursor: i + 1, record })));
  });
});

Deno.test("tail keeps following a waiting approval run until a resume completes it", async () => {
  await withServe(async (gw) => {
    const { run_id } = await api(gw, "/runs/start", {
      bundle_id: "approval",
      flow_id: "approve",
      input_data: { request: "deploy v2" },
    });
    const waiting = await waitStatus(gw, run_id, "waiting");
    const child = spawnGateway(["tail", run_id, "--url", gw.url, "--token", TOKEN, "--json"], {});
    const out = watch(child);
    const errText = new Response(child.stderr).text();
    try {
      await out.until((t) => t.includes('"status":"waiting"'));
      const before = lines(out.text()).length;
      assert.equal(before, (await ledger(gw, run_id)).length, "replayed everything so far");
      // Still running: the run is not terminal.
      const early = await Promise.race([child.status, new Promise((r) => setTimeout(r, 300, "running"))]);
      assert.equal(early, "running");

      await api(gw, "/commands", {
        command_id: crypto.randomUUID(),
        run_id,
        type: "resume",
        payload: { wait_key: waiting.waiting.wait_key, payload: { response: "approve" } },
      });
      const status = await child.status;
      await out.done;
      assert.equal(status.code, 0, await errText);
      const parsed = lines(out.text()).map((l) => JSON.parse(l));
      const records = await ledger(gw, run_id);
      assert.ok(parsed.length > before, "the records after the resume were printed");
      assert.deepEqual(parsed, records.map((record, i) => ({ cursor: i + 1, record })));
      assert.equal(records.at(-1).status, "completed");
      assert.ok(out.text().includes('"decision":"approved"'), out.text());
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
      await child.status;
      await out.done.catch(() => {});
      await errText;
    }
  });
});

Deno.test("tail: bad usage exits 2; an unknown run fails without hanging", async () => {
  await withServe(async (gw) => {
    const base = ["--url", gw.url, "--token", TOKEN];
    for (
      const args of [
        ["tail", ...base],
        ["tail", "a", "b", ...base],
        ["tail", "r", "--after", "-1", ...base],
        ["tail", "r", "--after", "x", ...base],
        ["tail", "r", "--bogus", ...base],
      ]
    ) {
      const out = await runGateway(args);
      assert.equal(out.code, 2, `${args.join(" ")}: ${out.stderr}`);
      assert.match(out.stderr, /gateway tail: /);
      assert.equal(out.stdout, "");
    }
    const help = await runGateway(["tail", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: gateway tail <run_id>/);

    const unknown = await runGateway(["tail", "no-such-run", ...base]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /404/);
    const anon = await runGateway(["tail", "no-such-run", "--url", gw.url]);
    assert.equal(anon.code, 1);
    assert.match(anon.stderr, /HTTP 401.*--token.*<data-dir>\/auth\/gateway-token/);
    assert.doesNotMatch(anon.stderr, /attempt \d+ failed/, "a wrong token is not retried");
  });
});

Deno.test("tail against a closed port reports every attempt on stderr and exits 1 within its bound", async () => {
  const url = `http://127.0.0.1:${freePort()}`;
  const started = Date.now();
  const out = await runGateway(["tail", "r1", "--url", url, "--give-up-after", "1.5"]);
  const elapsedMs = Date.now() - started;
  assert.equal(out.code, 1, out.stderr);
  assert.equal(out.stdout, "");
  const lines = out.stderr.trim().split("\n");
  assert.ok(lines.length >= 3, out.stderr);
  for (const line of lines.slice(0, -1)) {
    assert.match(line, /^gateway tail: attempt \d+ failed: connection refused .*; retrying in /);
  }
  assert.match(
    lines.at(-1)!,
    new RegExp(
      `^gateway tail: Cannot follow run r1 at ${url}: connection refused .*gave up after \\d+ attempts in 1.5 s$`,
    ),
  );
  // Bounded: 1.5 s of retries plus process start, far below the 30 s default.
  assert.ok(elapsedMs < 15_000, `took ${elapsedMs} ms`);
});

Deno.test("tail to a non-loopback URL is allowed and names a DNS failure", async () => {
  const out = await runGateway([
    "tail",
    "r1",
    "--url",
    "http://gateway.invalid:8080",
    "--give-up-after",
    "0.5",
  ]);
  assert.equal(out.code, 1);
  assert.match(out.stderr, /attempt 1 failed: DNS lookup failed/);
  assert.match(out.stderr, /Cannot follow run r1 at http:\/\/gateway\.invalid:8080: DNS lookup failed/);
  assert.doesNotMatch(out.stderr, /NotCapable|--allow-/);
});

Deno.test("tail survives a gateway crash and restart: every record printed exactly once", async () => {
  const data = await sandboxTempDir("tail-");
  const env = {
    ABSTRACTGATEWAY_DATA_DIR: data,
    ABSTRACTGATEWAY_FLOWS_DIR: join(REPO_ROOT, "bundles"),
    ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN,
    ABSTRACTGATEWAY_POLL_S: "0.05",
  };
  const port = String(freePort());
  let gw = await startServe(env, ["--port", port]);
  let child: Deno.ChildProcess | undefined;
  let out: ReturnType<typeof watch> | undefined;
  try {
    const { run_id } = await api(gw, "/runs/start", { bundle_id: "approval", flow_id: "approve" });
    await waitStatus(gw, run_id, "waiting");
    child = spawnGateway(["tail", run_id, "--url", gw.url, "--token", TOKEN, "--json"], {});
    out = watch(child);
    await out.until((t) => t.includes('"status":"waiting"'));

    await gw.kill(); // kill -9 while tail is connected
    gw = await startServe(env, ["--port", port]);
    const waiting = await waitStatus(gw, run_id, "waiting");
    await api(gw, "/commands", {
      command_id: crypto.randomUUID(),
      run_id,
      type: "resume",
      payload: { wait_key: waiting.waiting.wait_key, payload: { response: "reject" } },
    });
    assert.equal((await child.status).code, 0);
    await out.done;
    const parsed = lines(out.text()).map((l) => JSON.parse(l));
    const records = await ledger(gw, run_id);
    assert.deepEqual(parsed, records.map((record, i) => ({ cursor: i + 1, record })));
    assert.ok(out.text().includes('"decision":"rejected"'), out.text());
  } finally {
    if (child) {
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
      await child.status;
      await child.stderr.cancel().catch(() => {});
      await out?.done.catch(() => {});
    }
    await gw.stop();
    await Deno.remove(data, { recursive: true });
  }
});
