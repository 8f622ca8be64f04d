/**
 * Bad input gets a clear 4xx, never a 500 (issue 17): wrong and unknown methods, deep JSON, unusual
 * attachment content types, bodies cut short, GETs that must not change state, /metrics guessing.
 * One server per store; at the end its own request metrics must show no 5xx at all.
 */
import assert from "node:assert/strict";
import { DEMO, postJson, startServer, type TestServer } from "./harness.ts";

async function rawRequest(base: string, head: string, body: string, closeWrite: boolean): Promise<string> {
  const { hostname, port } = new URL(base);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    await conn.write(new TextEncoder().encode(head + body));
    if (closeWrite) await conn.closeWrite();
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    return n === null ? "" : new TextDecoder().decode(buf.subarray(0, n));
  } finally {
    conn.close();
  }
}

/** How many requests to `route` were answered `status`, from the server's own metrics. */
async function statusCount(s: TestServer, route: string, status: string): Promise<number> {
  const text = await (await s.fetch("/metrics")).text();
  const line = text.split("\n").find((l) =>
    l.startsWith("gateway_http_requests_total{") && l.includes(`route="${route}"`) &&
    l.includes(`status="${status}"`)
  );
  return line ? Number(line.split(" ").at(-1)) : 0;
}

async function eventually(ok: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await ok())) {
    assert.ok(Date.now() < until, "condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function assertNo5xx(s: TestServer): Promise<void> {
  const text = await (await s.fetch("/metrics")).text();
  const bad = text.split("\n").filter((l) => /status="5\d\d"/.test(l) && !/ 0$/.test(l));
  assert.deepEqual(bad, [], "the server answered 5xx");
}

for (const backend of ["file", "sqlite"]) {
  Deno.test(`${backend} store: bad input is a 4xx, never a 5xx`, async (t) => {
    const s = await startServer({
      bundles: [DEMO],
      runner: false,
      env: {
        ABSTRACTGATEWAY_STORE_BACKEND: backend,
        ABSTRACTGATEWAY_LOCKOUT_AFTER: "3",
        ABSTRACTGATEWAY_BODY_IDLE_TIMEOUT_S: "1",
      },
    });
    try {
      await t.step("unknown and wrong methods are 405 with Allow", async () => {
        for (const path of ["/api/gateway/runs", "/api/health"]) {
          // fetch() refuses to send TRACE: write it by hand.
          const reply = await rawRequest(
            s.base,
            `TRACE ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n`,
            "",
            false,
          );
          assert.match(reply, /^HTTP\/1\.1 405/, reply);
          assert.match(reply, /\r\nallow: [^\r]*GET/i, reply);
        }
        for (
          const [method, path, allow] of [
            ["PUT", "/api/gateway/runs", "GET"],
            ["GET", "/api/gateway/commands", "POST"],
            ["DELETE", "/api/gateway/runs/start", "POST"],
            ["PATCH", "/api/gateway/runs/some-run", "GET"],
          ]
        ) {
          const res = await s.fetch(path, { method });
          await res.body?.cancel();
          assert.equal(res.status, 405, `${method} ${path}`);
          assert.ok(
            res.headers.get("allow")?.split(", ").includes(allow),
            `${method} ${path}: ${res.headers.get("allow")}`,
          );
        }
        const res = await s.fetch("/api/gateway/no/such/route");
        await res.body?.cancel();
        assert.equal(res.status, 404);
      });

      await t.step("deeply nested JSON is a 400", async () => {
        const deep = "[".repeat(5_000) + "]".repeat(5_000);
        for (const path of ["/api/gateway/runs/start", "/api/gateway/commands"]) {
          const body =
            `{"bundle_id":"demo","command_id":"c","run_id":"r","type":"pause","payload":{"x":${deep}}}`;
          const res = await s.json(path, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body,
          });
          assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.body)}`);
          assert.match(res.body.detail, /nested deeper/);
        }
      });

      await t.step("GET routes never create runs", async () => {
        for (
          const path of ["/api/gateway/sessions/s-get/artifacts", "/api/gateway/runs/session_memory_s-get2"]
        ) {
          const res = await s.json(path);
          assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
        }
        assert.equal(await s.gw.stores.runs.load("session_memory_s-get"), null);
        assert.equal(await s.gw.stores.runs.load("session_memory_s-get2"), null);
      });

      await t.step("attachment content types with CR/LF or non-ASCII are refused at upload", async () => {
        for (const contentType of ["text/plain\r\nX-Evil: 1", "weird/typ\u00e9", "no-slash", "a/b\u0000"]) {
          const form = new FormData();
          form.set("session_id", "s-upload");
          form.set("content_type", contentType);
          form.set("file", new File(["hello"], "h.txt"));
          const res = await s.json("/api/gateway/attachments/upload", { method: "POST", body: form });
          assert.equal(res.status, 400, `${JSON.stringify(contentType)}: ${JSON.stringify(res.body)}`);
        }
        const form = new FormData();
        form.set("session_id", "s-upload");
        form.set("file", new File(["hello"], "h.txt", { type: "text/plain; charset=utf-8" }));
        const ok = await s.json("/api/gateway/attachments/upload", { method: "POST", body: form });
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        const ref = ok.body.artifact;
        const content = await s.fetch(`/api/gateway/runs/${ref.run_id}/artifacts/${ref.artifact_id}/content`);
        assert.equal(content.status, 200);
        assert.equal(await content.text(), "hello");
      });

      await t.step(
        "a body shorter than its Content-Length: 400 at once when the client ends it, 408 when it stalls",
        async () => {
          for (
            const [path, type] of [
              ["/api/gateway/runs/start", "application/json"],
              ["/api/gateway/bundles/upload", "multipart/form-data; boundary=XX"],
            ]
          ) {
            const head = `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n` +
              `Content-Type: ${type}\r\nContent-Length: 1000\r\n\r\n`;
            const body = '--XX\r\n{"bundle_id":';
            const started = Date.now();
            const reply = await rawRequest(s.base, head, body, false);
            assert.match(reply, /^HTTP\/1\.1 408/, reply);
            assert.ok(Date.now() - started < 10_000);
            // The client ends its write side mid-body: the request fails at once with a 400 (not the 408 of
            // the idle deadline). Deno's HTTP/1 server closes a connection whose body hit EOF, so the
            // answer cannot always be delivered; the connection is closed promptly either way.
            const before = await statusCount(s, path, "400");
            const cut = await rawRequest(s.base, head, body, true).catch(() => "");
            assert.ok(cut === "" || /^HTTP\/1\.1 400/.test(cut), cut);
            await eventually(async () => (await statusCount(s, path, "400")) === before + 1);
          }
        },
      );

      await t.step("/metrics authentication failures count toward the lockout", async () => {
        for (let i = 0; i < 3; i++) {
          const res = await s.fetch("/metrics", { headers: { authorization: "Bearer wrong" } });
          await res.body?.cancel();
          assert.equal(res.status, 401);
        }
        const locked = await s.fetch("/api/gateway/runs");
        await locked.body?.cancel();
        assert.equal(locked.status, 429);
        await s.restart(); // clears the in-memory lockout
      });

      await assertNo5xx(s);
      const ok = await s.json("/api/gateway/runs/start", postJson({ bundle_id: "demo" }));
      assert.equal(ok.status, 200);
    } finally {
      await s.close();
    }
  });
}
