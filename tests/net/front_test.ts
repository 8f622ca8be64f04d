/**
 * The connection front over real loopback TCP: the total cap, what it reports, and a shutdown that ends
 * promptly while silent and half-sent connections are open (their server side is closed, not awaited);
 * the client's address reaches the handler; and the front works on its own thread (a Worker).
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

Deno.test("front: runs on its own thread: it accepts and counts a connection while the app's thread is busy", async () => {
  let child: Deno.ChildProcess | undefined;
  const server = await serveGuarded(
    { hostname: "127.0.0.1", port: 0 },
    () => {
      // Another process connects while this handler holds the main thread without yielding once.
      child = new Deno.Command("bash", {
        args: ["-c", `sleep 0.2; exec 3<>/dev/tcp/127.0.0.1/${server.addr.port}; sleep 0.5`],
        stdout: "null",
        stderr: "null",
      }).spawn();
      const until = Date.now() + 5_000;
      while (server.counts().open < 2 && Date.now() < until) { /* busy */ }
      return new Response(`open ${server.counts().open}`);
    },
    { headerMs: 60_000, idleMs: 60_000, maxConnections: 0, maxPerIp: 0 },
  );
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    await conn.write(enc.encode("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    const text = await readToEnd(conn);
    assert.ok(text.endsWith("open 2"), text);
  } finally {
    await child?.status;
    await server.shutdown();
  }
});
