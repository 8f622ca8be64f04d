import assert from "node:assert/strict";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { createGatewayMetrics } from "../../src/metrics/gateway_metrics.ts";
import { metricsMiddleware } from "../../src/metrics/http.ts";
import { parseExposition } from "./exposition.ts";

async function openStreams(metrics: ReturnType<typeof createGatewayMetrics>): Promise<number | undefined> {
  const { samples } = parseExposition(await metrics.render());
  return samples.find((s) => s.name === "gateway_sse_streams_open")?.value;
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("condition not reached");
}

Deno.test("metrics middleware: SSE streams are counted while open, over real HTTP", async () => {
  const metrics = createGatewayMetrics();
  const app = new Hono();
  app.use("*", metricsMiddleware(metrics));
  let endlessStopped = 0;
  app.get("/runs/:id/ledger/stream", (c) =>
    streamSSE(c, async (stream) => {
      let i = 0;
      while (!stream.aborted) {
        await stream.writeSSE({ data: String(i++) });
        await stream.sleep(20);
      }
      endlessStopped += 1;
    }));
  app.get("/short", (c) =>
    streamSSE(c, async (stream) => {
      await stream.writeSSE({ data: "only" });
    }));
  app.get("/plain", (c) => c.json({ ok: true }));
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    await (await fetch(`${base}/plain`)).body?.cancel();
    assert.equal(await openStreams(metrics), 0);

    const a = await fetch(`${base}/runs/1/ledger/stream`);
    const b = await fetch(`${base}/runs/2/ledger/stream`);
    const readerA = a.body!.getReader();
    assert.match(new TextDecoder().decode((await readerA.read()).value), /data: 0/);
    assert.equal(await openStreams(metrics), 2);

    await readerA.cancel();
    await until(async () => (await openStreams(metrics)) === 1);
    await b.body!.cancel();
    await until(async () => (await openStreams(metrics)) === 0);
    await until(() => Promise.resolve(endlessStopped === 2));

    assert.match(await (await fetch(`${base}/short`)).text(), /data: only/);
    assert.equal(await openStreams(metrics), 0, "a stream that ends by itself releases its slot");
  } finally {
    await server.shutdown();
  }
});
