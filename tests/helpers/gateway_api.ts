/** JSON calls to a gateway subprocess's `/api/gateway/*` API, for e2e tests that drive it over HTTP. */
import assert from "node:assert/strict";

// deno-lint-ignore no-explicit-any
export type Json = any;

/** GET `path` (no body) or POST it as JSON with the bearer `token`; asserts HTTP 200 and returns the JSON. */
export async function apiJson(url: string, token: string, path: string, body?: unknown): Promise<Json> {
  const auth = { Authorization: `Bearer ${token}` };
  const res = await fetch(`${url}/api/gateway${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? auth : { ...auth, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  assert.equal(res.status, 200, `${path}: ${JSON.stringify(json)}`);
  return json;
}

/** Polls `read` every 30 ms until `ok` holds; throws `what` with the last value after 10 s. */
export async function eventually<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

/** Waits until run `runId` has `status`; returns the run. */
export function waitRunStatus(url: string, token: string, runId: string, status: string): Promise<Json> {
  return eventually(
    `run ${runId} never reached ${status}`,
    () => apiJson(url, token, `/runs/${runId}`),
    (run) => run.status === status,
  );
}
