/** `GET /runs/changes/stream`: a hint on open and after run saves, keep-alives, nothing left behind. */
import assert from "node:assert/strict";
import { askUserFlow } from "../helpers/bundles.ts";
import { DEMO, startRun, startServer } from "./harness.ts";
import { readFrames } from "./sse_client.ts";

const ASK = { bundleId: "ask", version: "1.0.0", flows: { root: askUserFlow("root") } };

Deno.test("run changes stream: opening hint, a hint per change burst, keep-alives, released on disconnect", async () => {
  const s = await startServer({ bundles: [DEMO, ASK] });
  try {
    const wake = s.gw.stores.wake;
    const subscribe = wake.subscribe.bind(wake);
    let active = 0;
    wake.subscribe = (topic, listener) => {
      const unsubscribe = subscribe(topic, listener);
      // Only the stream's own subscription (the in-process runner subscribes too, at its own time).
      if (topic !== "runs" || !new Error().stack?.includes("run_changes_stream.ts")) return unsubscribe;
      active++;
      return () => {
        active--;
        unsubscribe();
      };
    };
    const res = await s.fetch("/api/gateway/runs/changes/stream?heartbeat_s=0.3");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    let started: Promise<string> | undefined;
    let hints = 0;
    const { frames } = await readFrames(res, (f) => {
      if (f.event === "runs") {
        assert.match(JSON.parse(f.data!).changed_at, /^\d{4}-\d\d-\d\dT/);
        hints++;
      }
      started ??= hints === 1 ? startRun(s, { bundle_id: "ask" }) : undefined; // its saves wake the stream
      return hints >= 2 && f.comment === "keep-alive";
    });
    await started;
    assert.equal(frames[0].retry, "2000");
    assert.equal(frames[1].event, "runs", "a hint as soon as the stream opens");
    // One run start (several saves within 250 ms) gives one or two hints, not one per save.
    assert.ok(hints <= 3, `${hints} hints`);
    const deadline = Date.now() + 3000;
    while (active > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(active, 0, "the stream unsubscribed after its client left");
    wake.subscribe = subscribe;

    const bad = await s.json("/api/gateway/runs/changes/stream?heartbeat_s=0");
    assert.equal(bad.status, 422);
  } finally {
    await s.close();
  }
});
