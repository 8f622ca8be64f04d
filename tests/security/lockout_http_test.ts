/** Auth lockout over real HTTP with a controlled clock (contract §11 #5, with exact Retry-After). */
import assert from "node:assert/strict";
import { auditLines, AUTH, call, startTestServer } from "./_harness.ts";

const WRONG = { authorization: "Bearer wrong" };

Deno.test("5th failure locks for BASE_S; every request is refused until the lock really expires", async () => {
  let now = 1_000_000;
  const s = await startTestServer({ ABSTRACTGATEWAY_LOCKOUT_BASE_S: "10" }, { now: () => now });
  try {
    const runs = `${s.url}/api/gateway/runs`;
    for (let i = 0; i < 4; i++) assert.equal((await call(runs, { headers: WRONG })).status, 401);
    const fifth = await call(runs, { headers: WRONG });
    assert.equal(fifth.status, 429);
    assert.equal(fifth.text, '{"detail":"Too Many Requests (auth lockout)"}');
    assert.equal(fifth.headers.get("retry-after"), "10");
    const valid = await call(runs, { headers: AUTH });
    assert.equal(valid.status, 429, "a valid token does not bypass the lock");
    now += 9_500;
    const late = await call(runs, { headers: AUTH });
    assert.equal(late.status, 429, "half a second left is still locked");
    assert.equal(late.headers.get("retry-after"), "1");
    now += 600;
    assert.equal((await call(runs, { headers: AUTH })).status, 200);
    assert.equal((await call(runs, { headers: WRONG })).status, 401, "success cleared the count");
    const lines = await auditLines(s);
    assert.ok(lines.some((l) => l.status === 429), "lockout rejections are audited");
  } finally {
    await s.close();
  }
});

Deno.test("default 1 s base: the lock also covers the requests right after the 5th failure", async () => {
  let now = 5_000_000;
  const s = await startTestServer({}, { now: () => now });
  try {
    const runs = `${s.url}/api/gateway/runs`;
    for (let i = 0; i < 4; i++) await call(runs, { headers: WRONG });
    const fifth = await call(runs, { headers: WRONG });
    assert.equal(fifth.status, 429);
    assert.equal(fifth.headers.get("retry-after"), "1");
    now += 200;
    assert.equal((await call(runs, { headers: AUTH })).status, 429);
  } finally {
    await s.close();
  }
});

Deno.test("backoff doubles per further failure up to LOCKOUT_MAX_S", async () => {
  let now = 0;
  const s = await startTestServer({ ABSTRACTGATEWAY_LOCKOUT_MAX_S: "5" }, { now: () => now });
  try {
    const runs = `${s.url}/api/gateway/runs`;
    for (let i = 0; i < 4; i++) await call(runs, { headers: WRONG });
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await call(runs, { headers: WRONG });
      assert.equal(res.status, 429);
      seen.push(res.headers.get("retry-after")!);
      now += Number(res.headers.get("retry-after")) * 1000; // wait the lock out, then fail again
    }
    assert.deepEqual(seen, ["1", "2", "4", "5", "5"]);
  } finally {
    await s.close();
  }
});

Deno.test("failure counts expire after LOCKOUT_WINDOW_S without failures", async () => {
  let now = 0;
  const s = await startTestServer({ ABSTRACTGATEWAY_LOCKOUT_WINDOW_S: "60" }, { now: () => now });
  try {
    const runs = `${s.url}/api/gateway/runs`;
    for (let i = 0; i < 4; i++) await call(runs, { headers: WRONG });
    now += 61_000;
    for (let i = 0; i < 4; i++) {
      assert.equal((await call(runs, { headers: WRONG })).status, 401, `failure ${i + 1} after expiry`);
    }
    assert.equal((await call(runs, { headers: WRONG })).status, 429, "the 5th within the window locks");
  } finally {
    await s.close();
  }
});

Deno.test("lockout is per client address (X-Forwarded-For only with TRUST_PROXY=1)", async () => {
  const s = await startTestServer({ ABSTRACTGATEWAY_TRUST_PROXY: "1" });
  try {
    const runs = `${s.url}/api/gateway/runs`;
    const from = (ip: string, auth: Record<string, string>) => ({
      headers: { ...auth, "x-forwarded-for": ip },
    });
    for (let i = 0; i < 5; i++) await call(runs, from("203.0.113.7, 10.0.0.1", WRONG));
    assert.equal((await call(runs, from("203.0.113.7", AUTH))).status, 429);
    assert.equal((await call(runs, from("203.0.113.8", AUTH))).status, 200);
    const [line] = await auditLines(s);
    assert.equal(line.ip, "203.0.113.7");
  } finally {
    await s.close();
  }
  const direct = await startTestServer();
  try {
    const runs = `${direct.url}/api/gateway/runs`;
    for (let i = 0; i < 5; i++) {
      await call(runs, { headers: { ...WRONG, "x-forwarded-for": `198.51.100.${i}` } });
    }
    const spoofed = await call(runs, { headers: { ...AUTH, "x-forwarded-for": "198.51.100.99" } });
    assert.equal(spoofed.status, 429, "without TRUST_PROXY the socket address counts, not the header");
    const [line] = await auditLines(direct);
    assert.equal(line.ip, "127.0.0.1");
  } finally {
    await direct.close();
  }
});
