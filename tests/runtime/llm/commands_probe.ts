/**
 * Subprocess probe for commands_permission_test.ts: a WorkflowRuntime built from the gateway's own
 * settings (ABSTRACTGATEWAY_DATA_DIR, _TOOL_COMMANDS, _TOOL_MODE) runs one tool_calls step with the
 * execute_command lines given as arguments, and prints the run's status and tool results as JSON.
 */
import { join } from "node:path";
import { loadConfig } from "../../../src/config/config.ts";
import type { WorkflowSpec } from "../../../src/runtime/spec.ts";
import type { JsonObject } from "../../../src/runtime/types.ts";
import { WorkflowRuntime } from "../../../src/runtime/workflow_runtime.ts";
import { openStores } from "../../../src/store/open.ts";

const env: Record<string, string> = {};
for (
  const name of ["ABSTRACTGATEWAY_DATA_DIR", "ABSTRACTGATEWAY_TOOL_COMMANDS", "ABSTRACTGATEWAY_TOOL_MODE"]
) {
  const value = Deno.env.get(name);
  if (value !== undefined) env[name] = value;
}
const config = loadConfig({ ...env, ABSTRACTGATEWAY_LOG_LEVEL: "error" });
const stores = await openStores({ backend: "file", dataDir: config.dataDir, dbPath: config.dbPath });
const spec: WorkflowSpec = {
  workflow_id: "commands",
  entry_node: "run",
  nodes: {
    run: () => ({
      node_id: "run",
      effect: {
        type: "tool_calls",
        payload: {
          tool_calls: Deno.args.map((command) => ({ name: "execute_command", arguments: { command } })),
        },
        result_key: "_temp.outcome",
      },
      next_node: "end",
    }),
    end: (run) => ({ node_id: "end", complete_output: (run.vars._temp as JsonObject).outcome as JsonObject }),
  },
};
try {
  const runtime = new WorkflowRuntime({
    stores,
    workflows: { getWorkflow: () => undefined },
    config,
    specs: new Map([["commands", spec]]),
  });
  const started = await runtime.start({
    workflowId: "commands",
    vars: { workspace_root: join(config.dataDir, "ws") },
  });
  const run = await runtime.tick(started.run_id);
  const output = run.output as JsonObject | null;
  console.log(JSON.stringify({ status: run.status, results: output?.results ?? null }));
} finally {
  await stores.close();
}
