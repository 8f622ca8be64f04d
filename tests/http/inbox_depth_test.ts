/** Backpressure on the command inbox (issue 17): beyond the configured depth POST /commands is 503. */
import assert from "node:assert/strict";
import { postJson, startServer } from "./harness.ts";

Deno.test("POST /commands answers 503 with Retry-After beyond the inbox depth, and accepts again once drained", async () => {
  const s = await startServer({ runner: false, env: { ABSTRACTGATEWAY_MAX_INBOX_DEPTH: "3" } });
  const emit = (id: string) =>
    s.json(
      "/api/gateway/commands",
      postJson({ command_id: id, run_id: "sess", type: "emit_event", payload: { name: "n" } }),
    );
  try {
    for (const id of ["c1", "c2", "c3"]) assert.equal((await emit(id)).status, 200);
    const full = await emit("c4");
    assert.equal(full.status, 503, JSON.stringify(full.body));
    assert.match(full.body.detail, /3 commands are waiting/);
    assert.equal(full.res.headers.get("retry-after"), "5");
    assert.deepEqual((await emit("c1")).body, { accepted: false, duplicate: true, seq: 1 }); // retries still answered
    await s.restart(0, true);
    const deadline = Date.now() + 10_000;
    let again = await emit("c4");
    while (again.status === 503 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      again = await emit("c4");
    }
    assert.equal(again.status, 200, JSON.stringify(again.body));
  } finally {
    await s.close();
  }
});
