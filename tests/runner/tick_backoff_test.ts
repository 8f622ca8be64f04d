/**
 * A run whose tick keeps failing, and whose failure cannot even be recorded (the ledger refuses
 * writes, as on a full disk), is retried with a growing pause — not re-ticked in a hot loop (issue 17).
 */
import assert from "node:assert/strict";
import { StoreUnavailableError } from "../../src/store/errors.ts";
import { openHarness, sleep } from "./harness.ts";

Deno.test("a tick that cannot record its failure is retried with back-off, not in a hot loop", async () => {
  const h = await openHarness("file", { startRunner: false });
  try {
    const run = await h.start("test:broken");
    const append = h.stores.ledger.append.bind(h.stores.ledger);
    let attempts = 0;
    h.stores.ledger.append = (runId, records) => {
      if (runId === run.run_id) {
        attempts++;
        return Promise.reject(
          Object.assign(new Error("No space left on device (os error 28)"), { code: "ENOSPC" }),
        );
      }
      return append(runId, records);
    };
    await h.runner.start();
    await sleep(1_500);
    // 250 ms, then 500 ms, then 1 s: at most a handful of attempts in 1.5 s (a hot loop makes hundreds).
    assert.ok(attempts >= 1 && attempts <= 5, `${attempts} tick attempts in 1.5 s`);
    h.stores.ledger.append = append; // space is back: the run fails properly on a later attempt
    const failed = await h.waitFor(run.run_id, (r) => r.status === "failed", 10_000);
    assert.match(String(failed.error), /boom/);
  } finally {
    await h.dispose();
  }
});

Deno.test("a run whose store was unreachable for a while is retried within 2 s of its return", async () => {
  const h = await openHarness("file", { startRunner: false });
  try {
    const run = await h.start("test:spin", { limit: 1 });
    const append = h.stores.ledger.append.bind(h.stores.ledger);
    let down = true;
    h.stores.ledger.append = (runId, records) =>
      down && runId === run.run_id
        ? Promise.reject(new StoreUnavailableError("Cannot reach the store: connection refused"))
        : append(runId, records);
    await h.runner.start();
    // Failed attempts at about 0, 0.25, 0.75, 1.75 and 3.75 s; the doubling alone would wait 4 s more.
    await sleep(4_500);
    down = false;
    const back = performance.now();
    await h.waitFor(run.run_id, (r) => r.status === "completed", 10_000);
    const ms = performance.now() - back;
    assert.ok(ms < 2_600, `completed ${ms.toFixed(0)} ms after the store came back`);
  } finally {
    await h.dispose();
  }
});
