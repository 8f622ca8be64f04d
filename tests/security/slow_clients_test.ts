/**
 * Slow clients (issue 17): bodies that never finish, stall or trickle are cut by deadlines and give
 * their concurrency slot back on every exit path, so later requests are served, not 429.
 */
import assert from "node:assert/strict";
import { startServer, type TestServer } from "../http/harness.ts";
import { parseExposition } from "../metrics/exposition.ts";

const SLOTS = 4;

/** Opens a connection and sends the head plus `first` body bytes of a POST promising `length` bytes. */
async function openSlowPost(
  s: TestServer,
  path: string,
  contentType: string,
  first: string,
  length = 10_000,
): Promise<Deno.TcpConn> {
  const { hostname, port } = new URL(s.base);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const head = `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n` +
    `Content-Type: ${contentType}\r\nContent-Length: ${length}\r\n\r\n`;
  await conn.write(new TextEncoder().encode(head + first));
  return conn;
}

async function statusLine(conn: Deno.TcpConn): Promise<string> {
  const buf = new Uint8Array(2048);
  const n = await conn.read(buf);
  return n === null ? "" : new TextDecoder().decode(buf.subarray(0, n)).split("\r\n")[0];
}

/** `gateway_slots_in_use{pool="general"}` from GET /metrics (which takes no slot itself). */
async function generalSlotsInUse(s: TestServer): Promise<number | undefined> {
  const res = await s.fetch("/metrics");
  const { samples } = parseExposition(await res.text());
  return samples.find((x) => x.name === "gateway_slots_in_use" && x.labels.pool === "general")?.value;
}

/** Polls until the general-slot gauge reads `want` (fails after ~5 s). */
async function untilGeneralSlots(s: TestServer, want: number): Promise<void> {
  let seen: number | undefined;
  for (let i = 0; i < 100; i++) {
    if ((seen = await generalSlotsInUse(s)) === want) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`gateway_slots_in_use{pool="general"} stayed ${seen}, expected ${want}`);
}

async function assertSlotsFree(s: TestServer): Promise<void> {
  await untilGeneralSlots(s, 0);
  // Every slot must be back: SLOTS + 1 concurrent requests all succeed (none 429).
  const results = await Promise.all(
    Array.from(
      { length: SLOTS },
      () => s.fetch("/api/gateway/runs?limit=1").then(async (r) => (await r.body?.cancel(), r.status)),
    ),
  );
  assert.deepEqual(results, Array(SLOTS).fill(200));
}

Deno.test("slow bodies: request timeout, idle timeout and minimum rate all release the slot", async (t) => {
  const s = await startServer({
    runner: false,
    env: {
      ABSTRACTGATEWAY_MAX_CONCURRENCY: String(SLOTS),
      ABSTRACTGATEWAY_REQUEST_TIMEOUT_S: "1",
      ABSTRACTGATEWAY_BODY_IDLE_TIMEOUT_S: "30",
      ABSTRACTGATEWAY_BODY_MIN_RATE_BPS: "0",
    },
  });
  try {
    await t.step("bodies that never finish get 503 at the request timeout, slots come back", async () => {
      const conns = await Promise.all(
        Array.from(
          { length: SLOTS },
          () => openSlowPost(s, "/api/gateway/runs/start", "application/json", "{"),
        ),
      );
      try {
        await untilGeneralSlots(s, SLOTS); // the gauge shows the held slots
        const lines = await Promise.all(conns.map(statusLine));
        for (const line of lines) assert.match(line, /^HTTP\/1\.1 (408|503)/);
      } finally {
        conns.forEach((c) => c.close());
      }
      await assertSlotsFree(s);
    });
  } finally {
    await s.close();
  }

  const slow = await startServer({
    runner: false,
    env: {
      ABSTRACTGATEWAY_MAX_CONCURRENCY: String(SLOTS),
      ABSTRACTGATEWAY_REQUEST_TIMEOUT_S: "60",
      ABSTRACTGATEWAY_BODY_IDLE_TIMEOUT_S: "1",
      ABSTRACTGATEWAY_BODY_MIN_RATE_BPS: "1000",
    },
  });
  try {
    await t.step("stalled uploads get 408 after the idle timeout, slots come back", async () => {
      const conns = await Promise.all(
        Array.from(
          { length: SLOTS },
          () =>
            openSlowPost(
              slow,
              "/api/gateway/attachments/upload",
              "multipart/form-data; boundary=b",
              "--b\r\n",
            ),
        ),
      );
      try {
        for (const line of await Promise.all(conns.map(statusLine))) assert.match(line, /^HTTP\/1\.1 408/);
      } finally {
        conns.forEach((c) => c.close());
      }
      await assertSlotsFree(slow);
    });

    await t.step(
      "stalled JSON bodies get 408 after the idle timeout, the server frees the slots",
      async () => {
        // Half small enough (≤ rate × idle) to be read in one piece under one deadline, half read piece
        // by piece (body_deadline.ts).
        const conns = await Promise.all(
          Array.from(
            { length: SLOTS },
            (_, i) =>
              openSlowPost(slow, "/api/gateway/commands", "application/json", '{"type":', i % 2 ? 500 : 5000),
          ),
        );
        try {
          for (const line of await Promise.all(conns.map(statusLine))) assert.match(line, /^HTTP\/1\.1 408/);
          // The clients keep their connections open: the server ends the exchanges itself.
          await assertSlotsFree(slow);
        } finally {
          conns.forEach((c) => c.close());
        }
      },
    );

    await t.step("trickling uploads get 408 once below the minimum rate, slots come back", async () => {
      const conns = await Promise.all(
        Array.from(
          { length: SLOTS },
          () => openSlowPost(slow, "/api/gateway/bundles/upload", "multipart/form-data; boundary=b", "-"),
        ),
      );
      const trickle = setInterval(() => {
        for (const c of conns) c.write(new Uint8Array([0x4b])).catch(() => {});
      }, 200);
      try {
        for (const line of await Promise.all(conns.map(statusLine))) assert.match(line, /^HTTP\/1\.1 408/);
      } finally {
        clearInterval(trickle);
        conns.forEach((c) => c.close());
      }
      await assertSlotsFree(slow);
    });
  } finally {
    await slow.close();
  }
});
