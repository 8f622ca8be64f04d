/**
 * The connection front of `serve` (issue 17, "idle connections kill the server"), through the real
 * binary entry on a dual-stack listener with small deadlines: silent, header-less and idle connections
 * are closed; an SSE stream with keep-alives is not; one address beyond its cap is refused while
 * others are served; the connection metrics go up and back down; and lockout and audit see the real
 * client address (IPv6 ::1 here, never the front's own IPv4 loopback relay nor X-Forwarded-For), and
 * so does the access log.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startServe } from "../helpers/gateway_process.ts";
import { sandboxTempDir } from "../helpers/paths.ts";

const TOKEN = "e2e-conn-guard-token-0123456789";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const PER_IP = 4;
const enc = new TextEncoder();

/** Resolves true when the server closes `conn` (EOF or reset) within `ms`, false when it stays open. */
async function closedWithin(conn: Deno.Conn, ms: number): Promise<boolean> {
  const buf = new Uint8Array(4096);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const open = new Promise<false>((r) => timer = setTimeout(() => r(false), ms));
  const reading = (async () => {
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) return true as const;
    }
  })();
  const closed = await Promise.race([reading, open]);
  clearTimeout(timer);
  conn.close();
  await reading;
  return closed;
}

/** A run-changes SSE stream with a keep-alive every 0.25 s. */
async function openStream(base: string) {
  const ctl = new AbortController();
  const res = await fetch(`${base}/api/gateway/runs/changes/stream?heartbeat_s=0.25`, {
    headers: AUTH,
    signal: ctl.signal,
  });
  assert.equal(res.status, 200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  return {
    reader,
    async close() {
      ctl.abort();
      await reader.cancel().catch(() => {});
    },
  };
}

Deno.test("serve closes silent, header-less and idle connections, caps each address, reports them", async (t) => {
  const dir = await sandboxTempDir("conn-guard-");
  const gw = await startServe({
    ABSTRACTGATEWAY_DATA_DIR: dir,
    ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN,
    ABSTRACTGATEWAY_HEADER_TIMEOUT_S: "1",
    ABSTRACTGATEWAY_IDLE_CONN_TIMEOUT_S: "2.5",
    ABSTRACTGATEWAY_MAX_CONNECTIONS_PER_IP: String(PER_IP),
    ABSTRACTGATEWAY_LOG_LEVEL: "info",
  }, ["--no-runner", "--host", "::"]);
  const port = Number(new URL(gw.url).port);
  const v4 = { hostname: "127.0.0.1", port };
  const base4 = `http://127.0.0.1:${port}`;
  const base6 = `http://[::1]:${port}`;
  const metric = async (line: string) => {
    const text = await (await fetch(`${base6}/metrics`, { headers: AUTH })).text();
    const found = text.split("\n").find((l) => l.startsWith(`${line} `));
    return found === undefined ? undefined : Number(found.split(" ")[1]);
  };
  /** Open connections once the earlier ones are gone (the one reading /metrics stays). */
  const settled = async () => {
    let open = Infinity;
    for (let i = 0; i < 50 && open > 1; i++) {
      open = (await metric("gateway_connections_open"))!;
      if (open > 1) await new Promise((r) => setTimeout(r, 100));
    }
    return open;
  };
  try {
    await t.step("a connection that sends nothing is closed after the header deadline", async () => {
      assert.ok(await closedWithin(await Deno.connect(v4), 10_000));
    });

    await t.step("a connection that stops mid-header is closed", async () => {
      const conn = await Deno.connect(v4);
      await conn.write(enc.encode("GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: "));
      assert.ok(await closedWithin(conn, 10_000));
    });

    await t.step("a kept-alive connection is closed once idle; a request in time is answered", async () => {
      const conn = await Deno.connect(v4);
      await conn.write(enc.encode("GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n"));
      const buf = new Uint8Array(4096);
      const n = await conn.read(buf);
      assert.match(new TextDecoder().decode(buf.subarray(0, n ?? 0)), /^HTTP\/1.1 200/);
      assert.ok(await closedWithin(conn, 10_000));
      assert.ok((await metric('gateway_connections_timed_out_total{reason="header"}'))! >= 2);
      assert.ok((await metric('gateway_connections_timed_out_total{reason="idle"}'))! >= 1);
    });

    await t.step("an SSE stream sending keep-alives outlives the idle timeout", async () => {
      const stream = await openStream(base4);
      let seen = "";
      const until = Date.now() + 6_000; // more than twice IDLE_CONN_TIMEOUT_S
      while (Date.now() < until) {
        const { value, done } = await stream.reader.read();
        assert.equal(done, false, "the stream was cut");
        seen += value;
      }
      assert.ok(seen.split(": keep-alive").length > 5, seen);
      await stream.close();
    });

    await t.step(
      "beyond the per-address cap new connections are closed; other clients are served",
      async () => {
        await settled();
        // Held by SSE streams, which keep-alives protect from both deadlines.
        const held = await Promise.all(Array.from({ length: PER_IP }, () => openStream(base4)));
        try {
          assert.ok(
            await closedWithin(await Deno.connect(v4), 5_000),
            "the connection over the cap stays open",
          );
          const ok = await fetch(`${base6}/api/gateway/runs`, { headers: AUTH });
          assert.equal(ok.status, 200);
          await ok.body?.cancel();
          assert.ok((await metric('gateway_connections_refused_total{reason="per_ip"}'))! >= 1);
          assert.ok((await metric("gateway_connections_open"))! >= PER_IP + 1);
        } finally {
          for (const h of held) await h.close();
        }
        assert.equal(await settled(), 1, "only the connection reading /metrics is open");
      },
    );

    await t.step("lockout and audit key on the real client address, not on X-Forwarded-For", async () => {
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${base6}/api/gateway/runs`, {
          headers: { authorization: "Bearer wrong", "x-forwarded-for": `203.0.113.${i}` },
        });
        await res.body?.cancel();
      }
      const locked = await fetch(`${base6}/api/gateway/runs`, { headers: AUTH });
      await locked.body?.cancel();
      assert.equal(locked.status, 429, "::1 is locked out whatever X-Forwarded-For it sent");
      const other = await fetch(`${base4}/api/gateway/runs`, { headers: AUTH });
      await other.body?.cancel();
      assert.equal(other.status, 200, "the lock is not on the front's relay address");
      let lines: { ip: string; status: number }[] = [];
      for (let i = 0; i < 50 && !lines.some((l) => l.status === 429); i++) {
        await new Promise((r) => setTimeout(r, 100));
        const text = await Deno.readTextFile(join(dir, "audit_log.jsonl")).catch(() => "");
        lines = text.split("\n").filter(Boolean).map((l) => JSON.parse(l));
      }
      const denied = lines.filter((l) => l.status === 401 || l.status === 429);
      assert.ok(denied.length >= 5, JSON.stringify(lines));
      assert.deepEqual([...new Set(denied.map((l) => l.ip))], ["::1"]);
      const access = gw.stderr().split("\n").filter((l) => l.includes('"msg":"request"'))
        .map((l) => JSON.parse(l)).filter((l) => l.status === 401);
      assert.ok(access.length >= 4, gw.stderr().slice(-800));
      assert.deepEqual(
        [...new Set(access.map((l) => l.peer))],
        ["::1"],
        "the access log names the real peer",
      );
    });
  } finally {
    assert.equal(await gw.stop(), 0, gw.stderr().slice(-800));
    await Deno.remove(dir, { recursive: true });
  }
});
