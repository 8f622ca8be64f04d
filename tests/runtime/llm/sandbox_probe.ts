/**
 * Subprocess probe for sandbox_test.ts: runs tool calls under restricted Deno permissions and prints
 * the tool-results envelope as JSON. Args: <allowed workspace> <forbidden workspace> <loopback url>.
 */
import { createLlmEffectHandlers } from "../../../src/runtime/llm/mod.ts";
import { effectCtx, makeRun } from "./support.ts";

const [allowed, forbidden, url] = Deno.args;
const handlers = createLlmEffectHandlers({ timeoutS: 5, maxRetries: 0, toolMode: "local" });
const run = (root: string, calls: unknown[]) =>
  handlers.tool_calls(effectCtx(makeRun({ workspace_root: root }), {
    type: "tool_calls",
    payload: { tool_calls: calls as never },
    result_key: null,
  }));
const inside = await run(allowed, [
  { name: "list_files", arguments: {} },
  { name: "execute_command", arguments: { command: "echo hi" } },
  { name: "fetch_url", arguments: { url } },
]);
const outside = await run(forbidden, [{ name: "read_file", arguments: { file_path: "x.txt" } }]);
console.log(JSON.stringify({ inside, outside }));
