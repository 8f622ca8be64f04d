/** The reasons a failed request is given: real fetches against refused, unresolvable and non-TLS endpoints. */
import assert from "node:assert/strict";
import { GatewayHttpError } from "../../src/client/errors.ts";
import { describeFailure } from "../../src/client/failure.ts";
import { freePort } from "../helpers/free_port.ts";

const HINT = "token hint";

async function failureOf(url: string) {
  try {
    const res = await fetch(url);
    await res.body?.cancel();
  } catch (err) {
    return describeFailure(err, HINT);
  }
  throw new Error(`${url} answered`);
}

Deno.test("failure: refused, DNS and TLS are told apart and retryable", async () => {
  const refused = await failureOf(`http://127.0.0.1:${freePort()}/`);
  assert.match(refused.reason, /^connection refused/);
  assert.equal(refused.retryable, true);

  const dns = await failureOf("http://gateway.invalid/");
  assert.match(dns.reason, /^DNS lookup failed/);

  const plain = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => new Response("x"));
  try {
    const tls = await failureOf(`https://127.0.0.1:${plain.addr.port}/`);
    assert.match(tls.reason, /^TLS failed/);
  } finally {
    await plain.shutdown();
  }
});

Deno.test("failure: 401/403 carry the token hint and are final; 5xx and 429 are retried; 404 is final", () => {
  const unauthorized = describeFailure(new GatewayHttpError(401, "Unauthorized"), HINT);
  assert.deepEqual(unauthorized, { reason: "HTTP 401: Unauthorized (token hint)", retryable: false });
  assert.equal(
    describeFailure(new GatewayHttpError(403, "Forbidden"), HINT).reason,
    "HTTP 403: Forbidden (token hint)",
  );
  assert.equal(describeFailure(new GatewayHttpError(503, "busy"), HINT).retryable, true);
  assert.equal(describeFailure(new GatewayHttpError(429, "slow down"), HINT).retryable, true);
  assert.deepEqual(describeFailure(new GatewayHttpError(404, "Run not found"), HINT), {
    reason: "HTTP 404: Run not found",
    retryable: false,
  });
});
