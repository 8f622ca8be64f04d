/** Timers and schedules survive a runner restart (stores closed and reopened on the same dir). */
import assert from "node:assert/strict";
import { isoUtc } from "../../src/util/time.ts";
import { openHarness } from "./harness.ts";

for (const backend of ["file", "sqlite"] as const) {
  Deno.test(`[${backend}] a wait_until 2 s ahead completes on time across a restart`, async () => {
    const first = await openHarness(backend);
    const dir = first.dir;
    let second: Awaited<ReturnType<typeof openHarness>> | null = null;
    try {
      const until = new Date(Date.now() + 2_000);
      const run = await first.start("test:wait_until", { until: isoUtc(until) });
      await first.waitFor(run.run_id, (r) => r.status === "waiting" && r.waiting?.reason === "until");
      await first.close();
      second = await openHarness(backend, { dir });
      const done = await second.waitFor(run.run_id, (r) => r.status === "completed", 5_000);
      const firedAfterMs = Date.parse(done.output!.fired_at as string) - until.getTime();
      assert.ok(firedAfterMs >= 0 && firedAfterMs < 500, `fired ${firedAfterMs} ms after its until`);
    } finally {
      if (second) await second.dispose();
      else await Deno.remove(dir, { recursive: true });
    }
  });
}
