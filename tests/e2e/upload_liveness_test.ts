/**
 * A large `.flow` upload must not stall the server: the real `serve` (release permission flags, started
 * in an empty directory) receives a ~45 MB bundle (an incompressible stored part and a compressible
 * deflated part beside a small flow) while a probe asks `/api/health` every 50 ms. No health answer may
 * wait longer than LIVENESS_BOUND_MS: a liveness bound, far above a healthy answer (a few ms), that the
 * old path (whole body buffered as FormData, then inflated and hashed in one synchronous go, twice)
 * exceeded by seconds. Bundles beyond the size or entry-count bounds get a clear 413/400, not a stall.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { unzipSync, zipSync } from "fflate";
import { permissionFlags } from "../../release/flags.ts";
import { makeBundle, startEndFlow } from "../helpers/bundles.ts";
import { startServe } from "../helpers/gateway_process.ts";
import { REPO_ROOT } from "../helpers/paths.ts";

const LIVENESS_BOUND_MS = 1000;
const MIB = 1024 * 1024;

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

/** Hex text of random bytes: deflates about 2:1. */
function hexText(n: number): Uint8Array {
  const digits = new TextEncoder().encode("0123456789abcdef");
  const out = randomBytes(n);
  for (let i = 0; i < n; i++) out[i] = digits[out[i] & 15];
  return out;
}

/** manifest + one flow + `extra` entries, zipped (level 0 = stored for the incompressible part). */
function bigBundle(extra: Record<string, [Uint8Array, { level: 0 | 1 }]>): Uint8Array {
  const small = makeBundle({ bundleId: "big", version: "1.0.0", flows: { root: startEndFlow("root") } });
  return zipSync({ ...unzipSync(small), ...extra });
}

/** The multipart body, encoded before the probe starts (so the client's own encoding cannot delay it). */
async function uploadRequest(
  bytes: Uint8Array,
): Promise<{ body: Uint8Array<ArrayBuffer>; contentType: string }> {
  const form = new FormData();
  form.append("file", new Blob([bytes as Uint8Array<ArrayBuffer>]), "big.flow");
  const encoded = new Response(form);
  const contentType = encoded.headers.get("content-type")!;
  return { body: new Uint8Array(await encoded.arrayBuffer()), contentType };
}

async function postBundle(url: string, auth: Record<string, string>, bytes: Uint8Array) {
  const form = new FormData();
  form.append("file", new Blob([bytes as Uint8Array<ArrayBuffer>]), "bomb.flow");
  form.append("overwrite", "true");
  const res = await fetch(`${url}/api/gateway/bundles/upload`, { method: "POST", headers: auth, body: form });
  return { status: res.status, body: await res.json() };
}

/** Six stored 1.1 MiB entries whose central directory claims 100 MiB each (600 MiB in all, ratio < 200). */
function declaredHuge(): Uint8Array {
  const entries: Record<string, [Uint8Array, { level: 0 }]> = {};
  for (let i = 0; i < 6; i++) entries[`assets/part${i}.bin`] = [randomBytes(1.1 * MIB), { level: 0 }];
  const zip = bigBundle(entries);
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const decoder = new TextDecoder();
  for (let at = 0; at + 46 <= zip.length; at++) {
    if (view.getUint32(at, true) !== 0x02014b50) continue;
    const name = decoder.decode(zip.subarray(at + 46, at + 46 + view.getUint16(at + 28, true)));
    if (name.startsWith("assets/part")) view.setUint32(at + 24, 100 * MIB, true);
  }
  return zip;
}

/**
 * Asks `<url>/api/health` every 50 ms from its own process (the test's event loop is busy sending the
 * upload), until stopped; resolves with the slowest answer seen.
 */
function startHealthProbe(url: string): { stop(): Promise<{ worst: number; probes: number }> } {
  const script = `
    let stop = false, worst = 0, probes = 0;
    (async () => { for await (const _ of Deno.stdin.readable) {} stop = true; })();
    while (!stop) {
      const t0 = performance.now();
      const res = await fetch(${JSON.stringify(url)} + "/api/health");
      await res.body?.cancel();
      worst = Math.max(worst, performance.now() - t0);
      probes++;
      await new Promise((r) => setTimeout(r, 50));
    }
    console.log(JSON.stringify({ worst, probes }));
    Deno.exit(0);`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  return {
    async stop() {
      await child.stdin.close();
      const out = await child.output();
      return JSON.parse(new TextDecoder().decode(out.stdout));
    },
  };
}

Deno.test("a 45 MB bundle upload keeps /api/health answering promptly; zip bombs get a clear 400/413", async () => {
  const home = await Deno.makeTempDir({ prefix: "gw-upload-" });
  const launch = { cwd: home, flags: ["--config", join(REPO_ROOT, "deno.json"), ...permissionFlags()] };
  const gw = await startServe({ ABSTRACTGATEWAY_AUTH_TOKEN: "upload-token" }, [], 30_000, launch);
  const auth = { Authorization: "Bearer upload-token" };
  try {
    const bundle = bigBundle({
      "assets/noise.bin": [randomBytes(35 * MIB), { level: 0 }],
      "assets/text.txt": [hexText(20 * MIB), { level: 1 }],
    });
    assert.ok(bundle.length > 40 * MIB, `bundle is ${bundle.length} bytes`);
    const request = await uploadRequest(bundle);

    const probe = startHealthProbe(gw.url);
    let status = 0;
    let body: Record<string, unknown> = {};
    let seen: { worst: number; probes: number };
    try {
      const res = await fetch(`${gw.url}/api/gateway/bundles/upload`, {
        method: "POST",
        headers: { ...auth, "Content-Type": request.contentType },
        body: request.body,
      });
      status = res.status;
      body = await res.json();
    } finally {
      seen = await probe.stop();
    }
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.bundle_ref, "big@1.0.0");
    assert.ok(seen.probes > 3, `only ${seen.probes} health probes ran`);
    assert.ok(
      seen.worst < LIVENESS_BOUND_MS,
      `a health request waited ${Math.round(seen.worst)} ms during the upload`,
    );

    // Zip bombs are refused from the central directory, before anything is inflated.
    const many: Record<string, Uint8Array> = unzipSync(bigBundle({}));
    for (let i = 0; i <= 10_000; i++) many[`assets/${i}`] = new Uint8Array(0);
    const tooMany = await postBundle(gw.url, auth, zipSync(many));
    assert.equal(tooMany.status, 400);
    assert.match(tooMany.body.detail, /too many zip entries \(10003 > 10000\)/);
    const declared = declaredHuge();
    const tooBig = await postBundle(gw.url, auth, declared);
    assert.equal(tooBig.status, 413);
    assert.match(tooBig.body.detail, /^Bundle is too large uncompressed/);
    const listed = await (await fetch(`${gw.url}/api/gateway/bundles`, { headers: auth })).json();
    assert.deepEqual(listed.items.filter((b: { bundle_id: string }) => b.bundle_id === "big").length, 1);
  } finally {
    assert.equal(await gw.stop(), 0, gw.stderr());
    await Deno.remove(home, { recursive: true });
  }
});
