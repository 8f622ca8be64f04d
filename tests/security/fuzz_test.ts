/**
 * Property-based fuzzing of the real app (createApp + openGateway + the security layer) over real HTTP:
 * malformed JSON, huge strings, wrong types, path traversal and odd headers at every route listed in
 * /openapi.json. Every answer must be < 500, malformed bodies must get a 4xx, no answer may carry the
 * content of a file outside the data/flows dirs; afterwards the server still serves, and every run and
 * command created before the fuzz is unchanged (no data loss).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import { startRealApp } from "./_real_app.ts";

/** Answers 503 naming the failing part (no runner heartbeat, no bundles) by design; not a server error. */
const READINESS = "/api/health/ready";

const TOKEN = "fuzz-token-4c1d9e7a0b2f8e6d";
const NUM_RUNS = 300;

interface Route {
  method: string;
  template: string;
  /** The operation declares a request body. */
  takesBody: boolean;
}

interface FuzzRequest {
  method: string;
  path: string;
  /** A malformed body sent to a route that reads it: the answer must be a 4xx. */
  hostile: boolean;
  query: [string, string][];
  headers: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer>;
}

const HOSTILE_SEGMENTS = [
  "..",
  "..%2fsecret.txt", // <sandbox>/secret.txt sits next to the data and flows dirs
  "..%2f..%2fsecret.txt",
  "%2e%2e%2f%2e%2e%2fsecret.txt",
  "..%5csecret.txt",
  "../../../../etc/passwd",
  "..%2f..%2f..%2fetc%2fpasswd",
  "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
  "....//....//etc/passwd",
  "%00",
  "demo%00.flow",
  "a".repeat(5000),
  "%ff%fe",
  "%",
  "nope@../../x",
  "__proto__",
  "constructor",
  "CON",
  "~root",
  "%5c..%5c..%5cwindows",
];

const segment = fc.oneof(
  fc.constantFrom(...HOSTILE_SEGMENTS),
  fc.string({ minLength: 1, maxLength: 40 }).map((s) => encodeURIComponent(s)),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }).map((s) => encodeURIComponent(s)),
);

const fuzzText = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom("-1", "0", "1e309", "NaN", "true", "null", "[]", "{}", "9".repeat(400), "x".repeat(20_000)),
  fc.constantFrom(...HOSTILE_SEGMENTS),
);

const QUERY_KEYS = [
  "after",
  "limit",
  "heartbeat_s",
  "all_versions",
  "include_drafts",
  "max_bytes",
  "status",
  "session_id",
  "bundle_version",
  "ledger_mode",
  "flow_id",
  "overwrite",
  "reload",
  "cursor",
];

const malformedJson = fc.constantFrom(
  "{",
  "[1,",
  '{"a":}',
  "nul",
  '{"command_id": "c", }',
  "\u0000\u0001",
  '"unterminated',
  "[".repeat(5000) + "]".repeat(4999),
  '{"__proto__": {"admin": true}}',
);

const wrongTypes = fc.record({
  command_id: fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 })),
  run_id: fc.oneof(fc.integer(), fc.object(), fc.constant("")),
  type: fc.oneof(fc.constant("explode"), fc.integer(), fc.constant(null)),
  bundle_id: fc.oneof(fc.integer(), fc.constantFrom(...HOSTILE_SEGMENTS)),
  flow_id: fc.oneof(fc.boolean(), fc.constant("../root")),
  input_data: fc.oneof(fc.string(), fc.integer(), fc.array(fc.integer(), { maxLength: 3 })),
  runs: fc.oneof(fc.string(), fc.array(fc.anything(), { maxLength: 3 })),
  limit: fc.oneof(fc.string(), fc.constant(-5), fc.constant(1e12)),
  payload: fc.oneof(fc.string(), fc.integer()),
}, { requiredKeys: [] }).filter((o) => Object.keys(o).length > 0).map((o) => JSON.stringify(o));

const hostileBody = fc.oneof(
  malformedJson,
  wrongTypes,
  fc.constant("x".repeat(300_000)), // over MAX_BODY_BYTES
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) => new Uint8Array(b)),
);

const benignBody = fc.oneof(fc.json({ maxDepth: 3 }), fc.constant(""));

const contentType = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-8",
  "text/plain",
  "multipart/form-data; boundary=zzz",
  "multipart/form-data",
  "application/x-www-form-urlencoded",
  "application/octet-stream",
  ";;;garbage/",
  "",
);

const VALID_AUTH = `Bearer ${TOKEN}`;

const oddHeaders = fc.record({
  authorization: fc.oneof(
    { arbitrary: fc.constantFrom(VALID_AUTH, `bearer ${TOKEN}   `), weight: 8 },
    {
      arbitrary: fc.oneof(
        fc.constantFrom("Bearer ", "Basic Zm9vOmJhcg==", "Bearer wrong", `Bearer ${TOKEN}x`),
        fc.string({ maxLength: 40 }).map((s) => `Bearer ${s.replace(/[\r\n\0]/g, "")}`),
      ),
      weight: 2,
    },
  ),
  origin: fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 8 },
    {
      arbitrary: fc.constantFrom(
        "http://localhost:5173",
        "http://evil.example",
        "null",
        "http://localhost:1@x",
        "x".repeat(3000),
      ),
      weight: 2,
    },
  ),
  "x-request-id": fc.constantFrom("abc", "x".repeat(500), "../../", "a b", "\u00e9"),
  "last-event-id": fc.constantFrom("-1", "abc", "99999999999999999999"),
  "x-forwarded-for": fc.constantFrom("1.2.3.4", "garbage, , ,", "::1"),
  accept: fc.constantFrom("text/event-stream", "*/*", "application/json;q=0"),
}, { requiredKeys: ["authorization"] }).map((h) => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = v;
  return out;
});

function requestArb(routes: Route[]): fc.Arbitrary<FuzzRequest> {
  return fc.record({
    route: fc.constantFrom(...routes),
    methodOverride: fc.option(fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"), {
      freq: 6, // 1 in 6 requests uses another method than the route's own
    }),
    params: fc.array(segment, { minLength: 4, maxLength: 4 }),
    query: fc.array(
      fc.tuple(fc.oneof(fc.constantFrom(...QUERY_KEYS), fc.string({ maxLength: 10 })), fuzzText),
      {
        maxLength: 4,
      },
    ),
    headers: oddHeaders,
    contentType,
    body: fc.oneof({ arbitrary: hostileBody, weight: 3 }, { arbitrary: benignBody, weight: 1 }),
  }).map(({ route, methodOverride, params, query, headers, contentType, body }) => {
    let i = 0;
    const path = route.template.replace(/\{[^}]+\}/g, () => params[i++]);
    const method = methodOverride ?? route.method;
    const sendsBody = !["GET", "HEAD"].includes(method);
    const h: Record<string, string> = { ...headers };
    if (contentType) h["content-type"] = contentType;
    const bodyRead = route.takesBody && method === route.method;
    const hostileBodySent = bodyRead && (typeof body !== "string" || !isWellFormedJson(body));
    return {
      method,
      path,
      hostile: hostileBodySent,
      query,
      headers: h,
      body: sendsBody ? body : undefined,
    };
  });
}

function isWellFormedJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Sends one request; returns its status and body text (streams are cancelled unread). */
async function send(base: string, r: FuzzRequest): Promise<{ status: number; text: string }> {
  const url = new URL(base + r.path);
  for (const [k, v] of r.query) url.searchParams.append(k, v);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 10_000);
  try {
    const res = await fetch(url, {
      method: r.method,
      headers: r.headers,
      body: r.body,
      signal: abort.signal,
    });
    if (res.headers.get("content-type")?.includes("event-stream")) {
      await res.body?.cancel(); // an SSE stream of a real run would never end by itself
      return { status: res.status, text: "" };
    }
    return { status: res.status, text: await res.text() };
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("fuzz: hostile requests at every route get < 500, the store loses nothing", async () => {
  const app = await startRealApp(
    { ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN, ABSTRACTGATEWAY_LOCKOUT_AFTER: "1000" },
    false,
  );
  const { base, gw, audit } = app;
  // Outside the data and flows dirs: no answer may ever contain it.
  const SECRET = `outside-secret-${crypto.randomUUID()}`;
  const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
  try {
    await Deno.writeTextFile(join(app.root, "secret.txt"), SECRET);
    const runIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${base}/api/gateway/runs/start`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ bundle_id: "demo", input_data: { n: i } }),
      });
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      runIds.push(body.run_id);
      const cmd = await fetch(`${base}/api/gateway/commands`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ command_id: `pre-${i}`, run_id: body.run_id, type: "pause", payload: {} }),
      });
      assert.equal(cmd.status, 200, await cmd.text());
    }
    const runsBefore = await Promise.all(runIds.map((id) => gw.stores.runs.load(id)));
    const ledgersBefore = await Promise.all(runIds.map((id) => gw.stores.ledger.count(id)));
    const commandsBefore = await gw.stores.commands.listAfter(0, 10_000);

    const spec = await (await fetch(`${base}/openapi.json`)).json();
    const routes: Route[] = [];
    for (const [template, ops] of Object.entries(spec.paths as Record<string, Record<string, object>>)) {
      // Readiness answers 503 by design here: this app runs no runner (tests/http/readiness_test.ts).
      if (template === READINESS) continue;
      for (const [method, op] of Object.entries(ops)) {
        routes.push({ method: method.toUpperCase(), template, takesBody: "requestBody" in op });
      }
    }
    assert.ok(routes.length >= 20, `only ${routes.length} routes in /openapi.json`);

    const failures: string[] = [];
    await fc.assert(
      fc.asyncProperty(requestArb(routes), async (r) => {
        const { status, text } = await send(base, r);
        const ok = status >= 200 && status < 500 && (!r.hostile || status >= 400) &&
          !text.includes(SECRET) && !text.includes("root:x:0:0");
        if (!ok) {
          failures.push(
            `${status} ${r.method} ${r.path.slice(0, 120)} ${JSON.stringify(r.headers).slice(0, 200)}`,
          );
        }
        return status < 500;
      }),
      { numRuns: NUM_RUNS },
    );
    assert.deepEqual(failures, [], failures.join("\n"));

    const health = await fetch(`${base}/api/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const list = await fetch(`${base}/api/gateway/runs`, { headers: auth });
    assert.equal(list.status, 200);
    await list.body?.cancel();
    assert.deepEqual(await Promise.all(runIds.map((id) => gw.stores.runs.load(id))), runsBefore);
    assert.deepEqual(await Promise.all(runIds.map((id) => gw.stores.ledger.count(id))), ledgersBefore);
    const commandsAfter = await gw.stores.commands.listAfter(0, 100_000);
    for (const before of commandsBefore) {
      assert.deepEqual(commandsAfter.find((c) => c.command_id === before.command_id), before);
    }
    await audit.flush();
    assert.ok(!(await Deno.readTextFile(audit.path)).includes(TOKEN), "raw token in the audit log");
  } finally {
    await app.close();
  }
});

// ---------------------------------------------------------------------------------------------------
// Bulk fuzz (issue 17): ids in every path and body position, deep nesting, odd methods and content
// types, bodies aborted mid-stream — on both stores, with the runner applying whatever got accepted.
// Requests are sampled up front and sent 16 at a time; the server's own request metrics must show
// no 5xx at all (aborted requests included), and the runner must still apply a command afterwards.

/** Requests per store (two stores: 2 × this in CI). */
const BULK_REQUESTS = Number(Deno.env.get("GATEWAY_FUZZ_REQUESTS") ?? "10000");
const BULK_CONCURRENCY = 16;

const HOSTILE_IDS = [
  "\u0000",
  "a\u0000b",
  "x\ny",
  "\r",
  "\u007f",
  "\u0085",
  "\ud800",
  "a/b",
  "a\\b",
  "..",
  ".",
  "",
  " ",
  "r".repeat(201),
  "\u00e9".repeat(150),
  "\u{1F600}".repeat(60),
  "session_memory_x",
  "session_memory_sha_00",
];

const idValue = fc.oneof(
  { arbitrary: fc.constantFrom(...HOSTILE_IDS), weight: 3 },
  { arbitrary: fc.string({ maxLength: 30 }), weight: 1 },
  { arbitrary: fc.string({ unit: "binary", maxLength: 12 }), weight: 1 },
);

const nested = fc.integer({ min: 1, max: 3000 }).map((depth) => "[".repeat(depth) + "]".repeat(depth));

/** Well-formed JSON whose id fields (top level and payload) hold hostile values. */
const idBodies = fc.oneof(
  fc.record({
    command_id: idValue,
    run_id: idValue,
    type: fc.constantFrom("pause", "resume", "cancel", "emit_event", "update_schedule", "compact_memory"),
    payload: fc.record({
      name: idValue,
      session_id: idValue,
      run_id: idValue,
      workflow_id: idValue,
      event_id: idValue,
      scope: fc.constantFrom("session", "workflow", "run", "global"),
      wait_key: idValue,
      payload: fc.constant({}),
    }, { requiredKeys: [] }),
  }).map((o) => JSON.stringify(o)),
  fc.record({
    bundle_id: idValue,
    flow_id: idValue,
    session_id: idValue,
    idempotency_key: idValue,
    input_data: fc.constant({}),
  }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
  fc.record({ run_ids: fc.array(idValue, { maxLength: 3 }) }).map((o) => JSON.stringify(o)),
  nested.map((deep) => `{"command_id":"deep","run_id":"r","type":"pause","payload":{"x":${deep}}}`),
);

const bulkContentType = fc.constantFrom(
  "application/json",
  "application/json; charset=koi8-r",
  "application/vnd.example+json",
  "application/json;;;",
  "multipart/form-data; boundary=",
  'multipart/form-data; boundary="a b"',
  "multipart/mixed; boundary=x",
  "text/plain; charset=\u00e9",
  "image/png",
  "*/*",
);

const bulkMethod = fc.constantFrom(
  "GET",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "HEAD",
  "OPTIONS",
  "PROPFIND",
  "QUERY",
);

/** A body that sends a few bytes, then fails: the client aborts mid-read. */
function abortedBody(prefix: string): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(prefix));
    },
    pull(controller) {
      controller.error(new Error("client gave up"));
    },
  });
}

interface BulkRequest extends FuzzRequest {
  aborted: boolean;
  raw: boolean;
}

function bulkArb(routes: Route[]): fc.Arbitrary<BulkRequest> {
  const idPath = fc.array(idValue.map((v) => encodeURIComponent(v.toWellFormed())), {
    minLength: 4,
    maxLength: 4,
  });
  return fc.record({
    base: requestArb(routes),
    ids: fc.option(idPath, { freq: 2 }),
    route: fc.constantFrom(...routes),
    method: fc.option(bulkMethod, { freq: 4 }),
    contentType: fc.option(bulkContentType, { freq: 3 }),
    body: fc.option(idBodies, { freq: 2 }),
    aborted: fc.boolean().map((b) => b && Math.random() < 0.1),
    idempotencyKey: fc.option(idValue, { freq: 8 }),
  }).map(({ base, ids, route, method, contentType, body, aborted, idempotencyKey }) => {
    const r: BulkRequest = { ...base, aborted: false, raw: false };
    if (ids) {
      let i = 0;
      r.path = route.template.replace(/\{[^}]+\}/g, () => ids[i++] || "x");
      r.method = route.method;
    }
    if (method) r.method = method;
    if (contentType) r.headers["content-type"] = contentType;
    if (idempotencyKey) {
      // deno-lint-ignore no-control-regex -- header values must be visible ASCII
      r.headers["idempotency-key"] = idempotencyKey.replace(/[\u0000-\u001f\u007f-\uffff]/g, "?");
    }
    if (body && !["GET", "HEAD"].includes(r.method)) {
      r.body = body;
      r.headers["content-type"] ??= "application/json";
    }
    if (["GET", "HEAD"].includes(r.method)) r.body = undefined;
    // Oversized bodies are the sequential fuzz's business; here they would only cost time.
    if (typeof r.body === "string" && r.body.length > 30_000) r.body = r.body.slice(0, 30_000);
    r.aborted = aborted && !["GET", "HEAD"].includes(r.method);
    r.hostile = false; // checked by status < 500 only
    return r;
  });
}

async function sendBulk(base: string, r: BulkRequest): Promise<number> {
  if (!r.aborted) {
    try {
      return (await send(base, r)).status;
    } catch {
      return 0; // e.g. a header value fetch refuses to send
    }
  }
  const url = new URL(base + r.path);
  try {
    const res = await fetch(url, {
      method: r.method,
      headers: r.headers,
      body: abortedBody(typeof r.body === "string" ? r.body.slice(0, 20) : "{"),
      signal: AbortSignal.timeout(10_000),
    });
    await res.body?.cancel();
    return res.status;
  } catch {
    return 0; // the request was aborted: the server's metrics say what it answered
  }
}

async function serverErrorCount(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } }))
    .text();
  let total = 0;
  for (const line of text.split("\n")) {
    const m = line.match(/^gateway_http_requests_total\{[^}]*status="5\d\d"[^}]*\} (\d+)/);
    if (m) total += Number(m[1]);
  }
  return total;
}

for (const backend of ["file", "sqlite"]) {
  Deno.test(`fuzz (bulk, ${backend} store): ids, nesting, methods, content types, aborted bodies: 0 × 5xx`, async () => {
    const app = await startRealApp({
      ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN,
      ABSTRACTGATEWAY_LOCKOUT_AFTER: "1000",
      ABSTRACTGATEWAY_STORE_BACKEND: backend,
      ABSTRACTGATEWAY_MAX_CONCURRENCY: "256",
      ABSTRACTGATEWAY_AUDIT_LOG: "0",
    }, true);
    const { base } = app;
    try {
      const spec = await (await fetch(`${base}/openapi.json`)).json();
      const routes: Route[] = [];
      for (const [template, ops] of Object.entries(spec.paths as Record<string, Record<string, object>>)) {
        if (template === READINESS) continue; // its 503 names a failing part by design
        for (const [method, op] of Object.entries(ops)) {
          routes.push({ method: method.toUpperCase(), template, takesBody: "requestBody" in op });
        }
      }
      const requests = fc.sample(bulkArb(routes), BULK_REQUESTS);
      const fives: string[] = [];
      let next = 0;
      await Promise.all(Array.from({ length: BULK_CONCURRENCY }, async () => {
        while (next < requests.length) {
          const r = requests[next++];
          const status = await sendBulk(base, r);
          if (status >= 500) {
            fives.push(`${status} ${r.method} ${r.path.slice(0, 100)} ${String(r.body).slice(0, 100)}`);
          }
        }
      }));
      assert.deepEqual(fives.slice(0, 20), [], `${fives.length} × 5xx`);
      assert.equal(await serverErrorCount(base), 0, "the server logged 5xx answers");

      // The runner survived whatever was accepted: a fresh run starts, a command on it is applied.
      const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
      const start = await fetch(`${base}/api/gateway/runs/start`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ bundle_id: "demo" }),
      });
      const { run_id } = await start.json();
      assert.equal(start.status, 200);
      const cmd = await fetch(`${base}/api/gateway/commands`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ command_id: "after-fuzz", run_id, type: "cancel" }),
      });
      assert.equal(cmd.status, 200, await cmd.text());
      const deadline = Date.now() + 30_000;
      for (;;) {
        const res = await fetch(`${base}/api/gateway/commands/after-fuzz`, { headers: auth });
        const body = await res.json();
        if (body.status !== "pending") {
          assert.equal(body.status, "applied", JSON.stringify(body));
          break;
        }
        assert.ok(Date.now() < deadline, "the runner never applied a command after the fuzz");
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await app.close();
    }
  });
}
