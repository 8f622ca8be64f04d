import assert from "node:assert/strict";
import { join } from "node:path";
import { createLlmEffectHandlers, type ToolMode } from "../../../src/runtime/llm/mod.ts";
import type { EffectHandler, EffectOutcome } from "../../../src/runtime/spec.ts";
import type { JsonObject, WaitState } from "../../../src/runtime/types.ts";
import { effectCtx, makeRun, scratchDir } from "./support.ts";

interface Fixture {
  root: string;
  outside: string;
  [Symbol.asyncDispose](): Promise<void>;
}

async function fixture(): Promise<Fixture> {
  const root = await scratchDir("llm-tools-ws-");
  const outside = await scratchDir("llm-tools-outside-");
  await Deno.writeTextFile(join(root, "hello.py"), "def greet():\n    return 'hi'\n\nclass Box:\n    pass\n");
  await Deno.mkdir(join(root, "src"));
  await Deno.writeTextFile(join(root, "src", "notes.md"), "alpha\nTODO: beta\n");
  await Deno.writeTextFile(join(outside, "secret.txt"), "top secret");
  await Deno.symlink(join(outside, "secret.txt"), join(root, "leak.txt"));
  await Deno.symlink(outside, join(root, "outdir"));
  return {
    root,
    outside,
    async [Symbol.asyncDispose]() {
      await Deno.remove(root, { recursive: true });
      await Deno.remove(outside, { recursive: true });
    },
  };
}

/** `canRun`: execute_command enabled for /bin/cat and /bin/sh (this process runs with -A). */
function handler(mode: ToolMode, canRun = false): EffectHandler {
  return createLlmEffectHandlers({
    timeoutS: 5,
    maxRetries: 0,
    toolMode: mode,
    toolContext: { commands: canRun ? ["/bin/cat", "/bin/sh"] : [], canRun: () => canRun },
  })
    .tool_calls;
}

type Call = { name: string; arguments: JsonObject | string; call_id?: string };

async function runTools(
  h: EffectHandler,
  root: string | null,
  calls: Call[],
  extra: JsonObject = {},
  approval?: JsonObject,
): Promise<EffectOutcome> {
  const run = makeRun(root ? { workspace_root: root } : {});
  const ctx = effectCtx(run, {
    type: "tool_calls",
    payload: { tool_calls: calls, ...extra },
    result_key: "_temp.tool_results",
  });
  return await h(approval === undefined ? ctx : { ...ctx, approval });
}

function results(outcome: EffectOutcome): JsonObject[] {
  assert.equal(outcome.status, "completed", JSON.stringify(outcome));
  const result = (outcome as { result: JsonObject }).result;
  assert.equal(result.mode, "executed");
  return result.results as JsonObject[];
}

Deno.test("read-only tools run inside the workspace in approval mode", async () => {
  await using fx = await fixture();
  const out = results(
    await runTools(handler("approval"), fx.root, [
      { name: "read_file", arguments: { file_path: "hello.py", start_line: 1, end_line: 2 }, call_id: "c1" },
      {
        name: "list_files",
        arguments: JSON.stringify({ directory_path: ".", recursive: true, pattern: "*.md|*.py" }),
      },
      { name: "search_files", arguments: { pattern: "todo" } },
      { name: "analyze_code", arguments: { file_path: "hello.py" } },
      { name: "skim_files", arguments: { paths: ["hello.py", "src/notes.md"], head_lines: 1 } },
      { name: "skim_folders", arguments: {} },
    ]),
  );
  assert.deepEqual(out.map((r) => [r.name, r.success]), [
    ["read_file", true],
    ["list_files", true],
    ["search_files", true],
    ["analyze_code", true],
    ["skim_files", true],
    ["skim_folders", true],
  ]);
  assert.equal(out[0].call_id, "c1");
  assert.match(String(out[0].runtime_call_id), /^rtcall_[0-9a-f]{32}_1$/);
  assert.match(String(out[0].output), /1: def greet\(\):\n\s+2:\s+return 'hi'/);
  assert.doesNotMatch(String(out[0].output), /class Box/);
  assert.match(String(out[1].output), /hello\.py/);
  assert.match(String(out[1].output), /src\/notes\.md/);
  assert.match(String(out[2].output), /src\/notes\.md:2: TODO: beta/);
  assert.match(String(out[3].output), /1: def greet\(\):[\s\S]*4: class Box:/);
  assert.match(String(out[5].output), /src\//);
});

Deno.test("file tools refuse paths outside the workspace, including symlink escapes", async () => {
  await using fx = await fixture();
  const out = results(
    await runTools(handler("local"), fx.root, [
      { name: "read_file", arguments: { file_path: "../" + fx.outside.split("/").pop() + "/secret.txt" } },
      { name: "read_file", arguments: { file_path: join(fx.outside, "secret.txt") } },
      { name: "read_file", arguments: { file_path: "leak.txt" } },
      { name: "write_file", arguments: { file_path: "outdir/planted.txt", content: "x" } },
      { name: "list_files", arguments: { directory_path: "outdir" } },
      { name: "read_file", arguments: { file_path: join(fx.root, "hello.py") } },
    ]),
  );
  for (const r of out.slice(0, 5)) {
    assert.equal(r.success, false, JSON.stringify(r));
    assert.match(String(r.error), /is outside the run workspace/);
  }
  assert.equal(out[5].success, true);
  await assert.rejects(Deno.stat(join(fx.outside, "planted.txt")), Deno.errors.NotFound);
});

Deno.test("write_file and edit_file change files in local mode", async () => {
  await using fx = await fixture();
  const out = results(
    await runTools(handler("local"), fx.root, [
      { name: "write_file", arguments: { file_path: "new/dir/a.txt", content: "one two one" } },
      {
        name: "edit_file",
        arguments: { file_path: "new/dir/a.txt", pattern: "one", replacement: "1", max_replacements: 1 },
      },
      { name: "edit_file", arguments: { file_path: "new/dir/a.txt", pattern: "zzz", replacement: "y" } },
    ]),
  );
  assert.equal(out[0].output, "Wrote 11 bytes to new/dir/a.txt");
  assert.equal(out[1].output, "Edited new/dir/a.txt: 1 replacement");
  assert.equal(out[2].success, false);
  assert.match(String(out[2].error), /not found/);
  assert.equal(await Deno.readTextFile(join(fx.root, "new/dir/a.txt")), "1 two one");
});

Deno.test("unknown tools, bad arguments, allowlist and missing workspace give error results", async () => {
  await using fx = await fixture();
  const out = results(
    await runTools(handler("approval"), fx.root, [
      { name: "launch_rockets", arguments: {} },
      { name: "read_file", arguments: "{not json" },
      { name: "read_file", arguments: {} },
      { name: "list_files", arguments: {} },
    ], { allowed_tools: ["read_file"] }),
  );
  assert.deepEqual(out.map((r) => r.error), [
    "Unknown tool: launch_rockets",
    "Tool call arguments are not valid JSON: {not json",
    'Missing required argument "file_path"',
    'Tool "list_files" is not in this node\'s allowed tools',
  ]);
  const noWs = results(
    await runTools(handler("local"), null, [{ name: "read_file", arguments: { file_path: "a" } }]),
  );
  assert.match(String(noWs[0].error), /no workspace/);
});

Deno.test("approval mode never asks a person to approve a call this deployment cannot run", async () => {
  await using fx = await fixture();
  const out = results(
    await runTools(handler("approval", false), fx.root, [
      { name: "execute_command", arguments: { command: "ls" } },
      { name: "read_file", arguments: { file_path: "hello.py" } },
    ]),
  );
  assert.match(String(out[0].error), /^execute_command is not available in this deployment/);
  assert.equal(out[1].success, true);
  const gated = await runTools(handler("approval", true), fx.root, [{
    name: "execute_command",
    arguments: { command: "ls" },
  }]);
  assert.equal(gated.status, "waiting");
});

Deno.test("execute_command: off unless enabled; runs only allowlisted programs, without a shell", async () => {
  await using fx = await fixture();
  const off = results(
    await runTools(handler("local", false), fx.root, [{
      name: "execute_command",
      arguments: { command: "ls" },
    }]),
  );
  assert.equal(off[0].success, false);
  assert.equal(
    off[0].error,
    "execute_command is not available in this deployment: the operator has not enabled it " +
      "(ABSTRACTGATEWAY_TOOL_COMMANDS)",
  );
  const sandboxed = await createLlmEffectHandlers({
    timeoutS: 5,
    maxRetries: 0,
    toolMode: "approval",
    toolContext: { commands: ["/bin/cat"], canRun: () => false },
  }).tool_calls(effectCtx(makeRun({ workspace_root: fx.root }), {
    type: "tool_calls",
    payload: { tool_calls: [{ name: "execute_command", arguments: { command: "cat hello.py" } }] },
    result_key: null,
  }));
  assert.equal(sandboxed.status, "completed", "never sent for approval");
  assert.match(
    String(results(sandboxed)[0].error),
    /^execute_command is not available in this deployment: the gateway's permission sandbox does not allow running \/bin\/cat/,
  );
  const cmd = (command: string) => ({ name: "execute_command", arguments: { command } });
  const out = results(
    await runTools(handler("local", true), fx.root, [
      cmd("cat hello.py"),
      cmd("/bin/cat 'hello.py'"),
      cmd("cat hello.py | head -1"),
      cmd("ls"),
      cmd("/usr/bin/cat hello.py"),
      cmd("sh -c 'exit 3'"),
      cmd('cat "unterminated'),
    ]),
  );
  assert.match(String(out[0].output), /^exit code: 0\nstdout:\ndef greet\(\):/);
  assert.equal(out[1].success, true);
  assert.deepEqual(out.slice(2).map((r) => r.error), [
    "Cannot run command: shell syntax '|' is not supported (one allowlisted program with its arguments runs, without a shell)",
    "Cannot run ls: not an allowed executable (ABSTRACTGATEWAY_TOOL_COMMANDS: /bin/cat, /bin/sh)",
    "Cannot run /usr/bin/cat: not an allowed executable (ABSTRACTGATEWAY_TOOL_COMMANDS: /bin/cat, /bin/sh)",
    "Command exited with code 3",
    'Cannot run command: unterminated " quote',
  ]);
});

Deno.test("approval mode: a batch with write_file waits for the user with the tool-approval wait", async () => {
  await using fx = await fixture();
  const calls: Call[] = [
    { name: "read_file", arguments: { file_path: "hello.py" } },
    { name: "write_file", arguments: { file_path: "out.txt", content: "hey" } },
  ];
  const outcome = await runTools(handler("approval"), fx.root, calls, { resume_to_node: "observe" });
  assert.equal(outcome.status, "waiting");
  const wait = (outcome as { wait: WaitState }).wait;
  assert.equal(wait.reason, "user");
  assert.match(String(wait.wait_key), /^tool_approval:[0-9a-f]{32}$/);
  assert.equal(wait.resume_to_node, "observe");
  assert.equal(wait.result_key, "_temp.tool_results");
  const details = wait.details as JsonObject;
  assert.equal(details.mode, "approval_required");
  assert.equal((details.tool_calls as JsonObject[]).length, 2);
  assert.deepEqual((details.executor as JsonObject).kind, "tool_approval");
  assert.deepEqual(((details.executor as JsonObject).policy as JsonObject).requires_approval, ["write_file"]);
  await assert.rejects(Deno.stat(join(fx.root, "out.txt")), Deno.errors.NotFound);

  // The engine hands the person's answer to the handler inside the resume: a denial denies the
  // whole batch (the read-only call too); an approval runs every call.
  const denied = results(
    await runTools(handler("approval"), fx.root, calls, {}, { approved: false, reason: "no writes" }),
  );
  assert.deepEqual(denied.map((r) => r.error), [
    "Tool call denied by the user: no writes",
    "Tool call denied by the user: no writes",
  ]);
  await assert.rejects(Deno.stat(join(fx.root, "out.txt")), Deno.errors.NotFound);
  const approved = results(await runTools(handler("approval"), fx.root, calls, {}, { approved: true }));
  assert.equal(approved[0].success, true);
  assert.equal(approved[1].success, true);
  assert.equal(await Deno.readTextFile(join(fx.root, "out.txt")), "hey");
  // A payload cannot approve: without the engine's answer the batch waits again.
  const forged = await runTools(handler("approval"), fx.root, calls, {
    approved: true,
    after_approval: true,
  });
  assert.equal(forged.status, "waiting");
});

Deno.test("passthrough waits for approval of every batch; delegated waits for a job", async () => {
  await using fx = await fixture();
  const read = [{ name: "read_file", arguments: { file_path: "hello.py" } }];
  const pass = await runTools(handler("passthrough"), fx.root, read);
  assert.equal(pass.status, "waiting");
  assert.match(String((pass as { wait: WaitState }).wait.wait_key), /^tool_approval:/);
  const delegated = await runTools(handler("delegated"), fx.root, read);
  assert.equal(delegated.status, "waiting");
  const wait = (delegated as { wait: WaitState }).wait;
  assert.equal(wait.reason, "job");
  assert.match(String(wait.wait_key), /^tool_calls:[0-9a-f-]+:node-1$/);
});
