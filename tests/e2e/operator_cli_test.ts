/**
 * The operator CLI (`gateway runs|commands|bundles`) as subprocesses against a real `gateway serve`
 * subprocess that generated its own token: the CLI finds it in the data dir's token file.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runGateway, startServe } from "../helpers/gateway_process.ts";
import { REPO_ROOT, sandboxTempDir } from "../helpers/paths.ts";

Deno.test("operator CLI drives runs, commands and bundles of a live serve", async (t) => {
  const data = await sandboxTempDir("opcli-");
  const flows = join(data, "flows");
  await Deno.mkdir(flows);
  await Deno.copyFile(join(REPO_ROOT, "bundles", "approval@1.0.0.flow"), join(flows, "approval@1.0.0.flow"));
  const gw = await startServe({
    ABSTRACTGATEWAY_DATA_DIR: data,
    ABSTRACTGATEWAY_FLOWS_DIR: flows,
    ABSTRACTGATEWAY_POLL_S: "0.05",
    ABSTRACTGATEWAY_LOG_LEVEL: "info",
    ABSTRACTGATEWAY_LOG_FORMAT: "json",
  });
  const env = { ABSTRACTGATEWAY_URL: gw.url, ABSTRACTGATEWAY_DATA_DIR: data };
  // stdout is a pipe (as under systemd): serve names the token file but never prints the token.
  const token = (await Deno.readTextFile(join(data, "auth", "gateway-token"))).trim();
  assert.ok(!gw.stdout().includes(token) && !gw.stderr().includes(token));
  assert.match(gw.stdout(), /Gateway auth token: generated and stored in .*gateway-token \(not printed/);
  const cli = (...args: string[]) => runGateway(args, env);
  const json = async (...args: string[]) => {
    const out = await cli(...args, "--json");
    assert.equal(out.code, 0, out.stderr);
    return JSON.parse(out.stdout);
  };
  try {
    let runId = "";
    await t.step("runs start / list / get show the question", async () => {
      ({ run_id: runId } = await json("runs", "start", "approval", "--input", '{"request":"deploy v2"}'));
      let run;
      for (let i = 0; i < 200 && run?.status !== "waiting"; i++) run = await json("runs", "get", runId);
      assert.equal(run.waiting.reason, "user");
      assert.equal(run.waiting.prompt, "Approve deploy v2?");
      const list = await json("runs", "list", "--status", "waiting");
      assert.deepEqual(list.items.map((r: { run_id: string }) => r.run_id), [runId]);
      const human = await cli("runs", "get", runId);
      assert.match(human.stdout, /waiting +user: "Approve deploy v2\?" \[approve\|reject\]/);
      assert.match(human.stdout, /gateway runs answer/);
      const table = await cli("runs", "list");
      assert.match(table.stdout, /^RUN +STATUS +WORKFLOW/);
      assert.match(table.stdout, new RegExp(`${runId} +waiting +approval@1.0.0:approve`));
    });

    await t.step("runs answer applies the resume and the run completes", async () => {
      const out = await cli("runs", "answer", runId, "approve");
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /resume on .*: applied/);
      let run;
      for (let i = 0; i < 200 && run?.status !== "completed"; i++) run = await json("runs", "get", runId);
      assert.equal(run.status, "completed");
      const again = await cli("runs", "answer", runId, "approve");
      assert.equal(again.code, 1);
      assert.match(again.stderr, /Cannot answer run .*: it is completed, not waiting/);
    });

    await t.step("commands send --wait and get report a failed outcome", async () => {
      const { run_id } = await json("runs", "start", "approval", "--input", '{"request":"x"}');
      const id = "op-cli-cmd-1";
      const sent = await json("commands", "send", run_id, "cancel", "--command-id", id, "--payload", "{}");
      assert.equal(sent.command_id, id);
      const dup = await json("commands", "send", run_id, "cancel", "--command-id", id);
      assert.deepEqual([dup.duplicate, dup.seq], [true, sent.seq]);
      let status;
      for (let i = 0; i < 200 && status?.status !== "applied"; i++) {
        status = await json("commands", "get", id);
      }
      assert.equal(status.type, "cancel");
      const human = await cli("commands", "get", id);
      assert.match(human.stdout, /status +applied at /);
      // Answering a cancelled run's wait fails in the runner: exit 1 with the runner's error.
      const resume = await cli("commands", "send", run_id, "resume", "--wait", "--payload", '{"payload":{}}');
      assert.equal(resume.code, 1, resume.stdout + resume.stderr);
      assert.match(resume.stdout, /resume on .*: failed: /);
    });

    await t.step("bundles upload and remove", async () => {
      const file = join(REPO_ROOT, "bundles", "hello@1.0.0.flow");
      const up = await cli("bundles", "upload", file);
      assert.equal(up.code, 0, up.stderr);
      assert.match(up.stdout, /installed hello@1.0.0 \(entrypoints: hello\)/);
      const { run_id } = await json("runs", "start", "hello");
      assert.ok(run_id);
      const gone = await json("bundles", "remove", "hello");
      assert.equal(gone.bundle_ref, "hello");
      const missing = await cli("runs", "start", "hello");
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^gateway runs: Cannot start a run of hello: .*\(HTTP 4\d\d\)/);
    });

    await t.step("the JSON log tells each run's story with run_id and command_id", () => {
      const lines = gw.stderr().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
      const story = lines.filter((l) => l.run_id === runId).map((l) => l.msg);
      assert.deepEqual(
        story.filter((m) => m !== "request"),
        ["run started", "run waiting", "command applied", "run completed"],
      );
      const waiting = lines.find((l) => l.run_id === runId && l.msg === "run waiting");
      assert.deepEqual([waiting.reason, waiting.prompt], ["user", "Approve deploy v2?"]);
      const applied = lines.find((l) => l.run_id === runId && l.msg === "command applied");
      assert.deepEqual([applied.type, applied.outcome, typeof applied.command_id], [
        "resume",
        "applied",
        "string",
      ]);
      const failed = lines.find((l) => l.msg === "command failed");
      assert.deepEqual([failed.level, failed.type, failed.outcome], ["warn", "resume", "failed"]);
      assert.match(failed.error, /\S/);
      assert.ok(lines.some((l) => l.msg === "run cancelled" && l.run_id === failed.run_id));
    });

    await t.step("errors: unknown run, bad flags, no token", async () => {
      const unknown = await cli("runs", "get", "no-such-run");
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /Cannot get run no-such-run: .*not found \(HTTP 404\)/);
      assert.equal((await cli("runs", "list", "--bogus")).code, 2);
      assert.equal((await cli("runs", "frobnicate")).code, 2);
      assert.equal((await cli("runs", "start", "approval", "--input", "[1]")).code, 2);
      const noToken = await runGateway(["runs", "list"], {
        ABSTRACTGATEWAY_URL: gw.url,
        ABSTRACTGATEWAY_DATA_DIR: join(data, "empty"),
      });
      assert.equal(noToken.code, 2);
      assert.match(noToken.stderr, /no token: pass --token, set ABSTRACTGATEWAY_AUTH_TOKEN/);
    });
  } finally {
    assert.equal(await gw.stop(), 0);
    await Deno.remove(data, { recursive: true });
  }
});
