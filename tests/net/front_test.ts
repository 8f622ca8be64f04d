/**
 * The connection front over real loopback TCP: the total cap, what it reports, and a shutdown that ends
 * promptly while silent and half-sent connections are open (their server side is closed, not awaited).
 */
import assert from "node:assert/strict";
import { serveGuarded } from "../../src/net/front.ts";

const enc = new TextEncoder();

/** Reads until the server closes the connection (or resets it); the text received. */
async function readToEnd(conn: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(4096);
  let text = "";
  for (;;) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) break;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  conn.close();
  return text;
}

Deno.test("front: beyond MAX_CONNECTIONS a connection is closed at once; shutdown closes the rest", async () => {
  const server = await serveGuarded(
    { hostname: "127.0.0.1", port: 0 },
    (_req, info) => new Response(`peer ${info.remoteAddr.hostname}`),
    { headerMs: 60_000, idleMs: 60_000, maxConnections: 2, maxPerIp: 0 },
  );
  const counts = (open: number, total: number) => ({
    open,
    refused: { total, per_ip: 0 },
    timedOut: { header: 0, idle: 0 },
  });
  const addr = { hostname: "127.0.0.1", port: server.addr.port };
  const silent = await Deno.connect(addr);
  const halfSent = await Deno.connect(addr);
  await halfSent.write(enc.encode("GET / HTTP/1.1\r\nHost: x\r\n"));
  const over = await Deno.connect(addr);
  assert.equal(await readToEnd(over), "", "the third connection is closed without an answer");
  assert.deepEqual(server.counts(), counts(2, 1), "counted before the client saw the close");

  const ends = [readToEnd(silent), readToEnd(halfSent)];
  await server.shutdown();
  assert.deepEqual(await Promise.all(ends), ["", ""]);
  await server.finished;
  assert.deepEqual(server.counts(), counts(0, 1));
});

Deno.test("front: the handler sees the client's address; a request in time is answered", async () => {
  const server = await serveGuarded(
    { hostname: "127.0.0.1", port: 0 },
    (_req, info) => new Response(`peer ${info.remoteAddr.hostname}:${info.remoteAddr.port}`),
    { headerMs: 60_000, idleMs: 60_000, maxConnections: 0, maxPerIp: 0 },
  );
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    const local = conn.localAddr as Deno.NetAddr;
    await conn.write(enc.encode("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    const text = await readToEnd(conn);
    assert.match(text, /^HTTP\/1.1 200/);
    assert.ok(text.endsWith(`peer 127.0.0.1:${local.port}`), text);
  } finally {
    await server.shutdown();
  }
});
