import assert from "node:assert/strict";
import { createGatewayMetrics } from "../../src/metrics/gateway_metrics.ts";
import { instrumentStores } from "../../src/metrics/store_hooks.ts";
import { openStores } from "../../src/store/open.ts";
import { makeCommand, makeRecord } from "../store/fixtures.ts";
import { parseExposition } from "./exposition.ts";

Deno.test("store hooks: ledger appends and command outcomes on a real store feed the counters", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "gw-metrics-hooks-" });
  const metrics = createGatewayMetrics();
  const stores = instrumentStores(await openStores({ backend: "file", dataDir }), metrics);
  try {
    assert.equal(await stores.ledger.append("r1", [makeRecord("r1", 1), makeRecord("r1", 2)]), 2);
    assert.equal(await stores.ledger.append("r1", [makeRecord("r1", 3)]), 3);
    assert.equal((await stores.ledger.read("r1", 0, 10)).items.length, 3, "reads pass through");
    const a = await stores.commands.append(makeCommand("c1", "r1"));
    const b = await stores.commands.append(makeCommand("c2", "r1"));
    const outcome = (seq: number, id: string, status: "applied" | "failed") => ({
      command_id: id,
      seq,
      run_id: "r1",
      type: "pause",
      status,
      error: status === "failed" ? "boom" : null,
      applied_at: "2026-01-01T00:00:00.000000+00:00",
    });
    await stores.commands.complete(outcome(a.seq, "c1", "applied"));
    await stores.commands.complete(outcome(b.seq, "c2", "failed"));
    assert.equal(await stores.commands.loadCursor(), b.seq, "the wrapped store really recorded them");

    const { samples } = parseExposition(await metrics.render());
    const v = (name: string, outcome?: string) =>
      samples.find((s) => s.name === name && (outcome === undefined || s.labels.outcome === outcome))?.value;
    assert.equal(v("gateway_ledger_appends_total"), 3);
    assert.equal(v("gateway_commands_total", "applied"), 1);
    assert.equal(v("gateway_commands_total", "failed"), 1);
  } finally {
    await stores.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
