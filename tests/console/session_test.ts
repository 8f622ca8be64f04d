/**
 * Console sign-in, sessions and CSRF against the real app and security layer (no browser): cookie
 * attributes, cookie auth of the public API, CSRF on writes, cross-site refusal, lockout, sign-out.
 */
import assert from "node:assert/strict";
import { CONSOLE_ASSETS } from "../../src/console/assets.ts";
import { type RealApp, startRealApp } from "../security/_real_app.ts";

const TOKEN = "console-token-Zq81mXw4Lp7Hd2Kc";
const FORM = { "content-type": "application/x-www-form-urlencoded" };

async function signIn(app: RealApp, token = TOKEN, headers: Record<string, string> = {}): Promise<Response> {
  return await fetch(`${app.base}/console/login`, {
    method: "POST",
    headers: { ...FORM, ...headers },
    body: new URLSearchParams({ token, next: "/console/runs" }),
    redirect: "manual",
  });
}

/** Signs in; returns the cookie pair and the CSRF token the runs page carries. */
async function session(app: RealApp): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const res = await signIn(app);
  assert.equal(res.status, 303);
  await res.body?.cancel();
  const setCookie = res.headers.get("set-cookie") ?? "";
  const cookie = setCookie.split(";")[0];
  const page = await fetch(`${app.base}/console/runs`, { headers: { cookie } });
  assert.equal(page.status, 200);
  const csrf = /data-csrf="([^"]+)"/.exec(await page.text())?.[1] ?? "";
  assert.ok(csrf.length >= 32);
  return { cookie, csrf, setCookie };
}

const startBody = JSON.stringify({ bundle_id: "demo", flow_id: "root", input_data: {} });

Deno.test("console session: cookie auth of the API, CSRF on writes, cross-site refused, sign-out", async () => {
  const app = await startRealApp({ ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN }, false);
  try {
    // Pages need a session.
    const anonymous = await fetch(`${app.base}/console/runs`, { redirect: "manual" });
    assert.equal(anonymous.status, 303);
    assert.equal(anonymous.headers.get("location"), "/console/login?next=%2Fconsole%2Fruns");
    await anonymous.body?.cancel();

    const { cookie, csrf, setCookie } = await session(app);
    assert.match(
      setCookie,
      /^gateway_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/,
    );

    // Reads with the cookie, including the principal.
    const me = await fetch(`${app.base}/api/gateway/me`, { headers: { cookie } });
    assert.equal(me.status, 200);
    const { principal } = await me.json();
    assert.equal(principal.source, "console-session");
    assert.equal(principal.admin, true);

    const post = (headers: Record<string, string>) =>
      fetch(`${app.base}/api/gateway/runs/start`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: startBody,
      });
    // A write without, or with a forged, CSRF token is refused and starts nothing.
    const forged: Record<string, string>[] = [{ cookie }, { cookie, "x-csrf-token": "forged" }, {
      cookie,
      "x-csrf-token": csrf + "x",
    }];
    for (const headers of forged) {
      const res = await post(headers);
      assert.equal(res.status, 403);
      assert.deepEqual(await res.json(), {
        detail: "Forbidden (CSRF token missing or wrong)",
        reason_code: "csrf",
      });
    }
    const listed = await (await fetch(`${app.base}/api/gateway/runs`, { headers: { cookie } })).json();
    assert.equal(listed.items.length, 0);

    // A cross-site request is refused by the origin allow-list even with a valid cookie and token.
    const crossSite = await post({ cookie, "x-csrf-token": csrf, origin: "https://evil.example" });
    assert.equal(crossSite.status, 403);
    assert.deepEqual(await crossSite.json(), { detail: "Forbidden (origin not allowed)" });
    const crossLogin = await signIn(app, TOKEN, { origin: "https://evil.example" });
    assert.equal(crossLogin.status, 403);
    assert.equal(crossLogin.headers.get("set-cookie"), null);
    await crossLogin.body?.cancel();

    // The same-origin write with the session's token works.
    const started = await post({ cookie, "x-csrf-token": csrf, origin: app.base });
    assert.equal(started.status, 200, await started.clone().text());
    assert.ok((await started.json()).run_id);

    // A wrong session is no session.
    const wrong = await fetch(`${app.base}/api/gateway/runs`, {
      headers: { cookie: "gateway_session=nope" },
    });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();

    // Bearer clients are unaffected (and need no CSRF token).
    const bearer = await fetch(`${app.base}/api/gateway/runs/start`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: startBody,
    });
    assert.equal(bearer.status, 200);
    await bearer.body?.cancel();

    // Sign-out needs the CSRF token, then ends the session server-side.
    const forgedOut = await fetch(`${app.base}/console/logout`, {
      method: "POST",
      headers: { ...FORM, cookie },
      body: new URLSearchParams({ csrf: "forged" }),
      redirect: "manual",
    });
    assert.equal(forgedOut.status, 403);
    await forgedOut.body?.cancel();
    const out = await fetch(`${app.base}/console/logout`, {
      method: "POST",
      headers: { ...FORM, cookie },
      body: new URLSearchParams({ csrf }),
      redirect: "manual",
    });
    assert.equal(out.status, 303);
    assert.match(out.headers.get("set-cookie") ?? "", /^gateway_session=; .*Max-Age=0$/);
    await out.body?.cancel();
    const after = await fetch(`${app.base}/api/gateway/me`, { headers: { cookie } });
    assert.equal(after.status, 401);
    await after.body?.cancel();
  } finally {
    await app.close();
  }
});

Deno.test("console sign-in: failures count toward the lockout; Secure cookie behind TLS", async () => {
  const app = await startRealApp({
    ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN,
    ABSTRACTGATEWAY_LOCKOUT_AFTER: "3",
    ABSTRACTGATEWAY_TRUST_PROXY: "1",
  }, false);
  try {
    const tls = await signIn(app, TOKEN, { "x-forwarded-proto": "https", "x-forwarded-for": "10.0.0.9" });
    assert.equal(tls.status, 303);
    assert.match(tls.headers.get("set-cookie") ?? "", /; Secure; Max-Age=/);
    await tls.body?.cancel();

    const huge = await fetch(`${app.base}/console/login`, {
      method: "POST",
      headers: FORM,
      body: `token=${"x".repeat(10_000)}`,
    });
    assert.equal(huge.status, 413, "sign-in bodies are capped");
    await huge.body?.cancel();

    const from = { "x-forwarded-for": "10.0.0.7" };
    for (const expected of [401, 401, 429]) {
      const res = await signIn(app, "wrong-token", from);
      assert.equal(res.status, expected);
      assert.equal(res.headers.get("set-cookie"), null);
      await res.body?.cancel();
    }
    // Locked out: the right token does not sign in, and the API refuses the address too.
    const locked = await signIn(app, TOKEN, from);
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get("retry-after")) > 0);
    await locked.body?.cancel();
    const api = await fetch(`${app.base}/api/gateway/runs`, {
      headers: { ...from, authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(api.status, 429);
    await api.body?.cancel();
  } finally {
    await app.close();
  }
});

Deno.test("console assets: served from the binary, compressed, under the 150 KB budget", async () => {
  const app = await startRealApp({ ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN }, false);
  try {
    let total = 0;
    for (const name of Object.keys(CONSOLE_ASSETS)) {
      const res = await fetch(`${app.base}/console/assets/${name}`, {
        headers: { "accept-encoding": "gzip" },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-encoding"), "gzip");
      const etag = res.headers.get("etag") ?? "";
      total += (await res.arrayBuffer()).byteLength;
      const again = await fetch(`${app.base}/console/assets/${name}`, { headers: { "if-none-match": etag } });
      assert.equal(again.status, 304);
      await again.body?.cancel();
    }
    assert.ok(total < 150 * 1024, `console assets are ${total} bytes compressed`);
    const missing = await fetch(`${app.base}/console/assets/nope.js`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();

    // Pages load nothing from elsewhere.
    const login = await fetch(`${app.base}/console/login`);
    assert.match(login.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    assert.doesNotMatch(await login.text(), /(src|href)="(https?:)?\/\//);
  } finally {
    await app.close();
  }
});

Deno.test("API added for the console: GET /runs bundle_id and flow_id filters, capabilities.server", async () => {
  const app = await startRealApp({ ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN }, false);
  const auth = { authorization: `Bearer ${TOKEN}` };
  const get = async (path: string) => {
    const res = await fetch(`${app.base}/api/gateway${path}`, { headers: auth });
    assert.equal(res.status, 200, path);
    return await res.json();
  };
  try {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${app.base}/api/gateway/runs/start`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: startBody,
      });
      assert.equal(res.status, 200);
      await res.body?.cancel();
    }
    const count = async (query: string) => (await get(`/runs?${query}`)).items.length;
    assert.equal(await count("bundle_id=demo"), 2);
    assert.equal(await count("bundle_id=dem"), 0, "a bundle id matches whole, not as a prefix");
    assert.equal(await count("flow_id=root"), 2);
    assert.equal(await count("bundle_id=demo&flow_id=other"), 0);
    assert.equal(await count("bundle_id=other"), 0);
    const caps = await get("/discovery/capabilities");
    assert.deepEqual(caps.capabilities.server, { store: app.config.storeBackend, runner: "off" });
  } finally {
    await app.close();
  }
});
