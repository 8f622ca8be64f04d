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
import {
  bigBundle,
  bigUploadBundle,
  MIB,
  randomBytes,
  startHealthProbe,
  uploadRequest,
} from "../helpers/big_upload.ts";
import { startServe } from "../helpers/gateway_process.ts";
import { REPO_ROOT } from "../helpers/paths.ts";

const LIVENESS_BOUND_MS = 1000;

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

Deno.test("a 45 MB bundle upload keeps /api/health answering promptly; zip bombs get a clear 400/413", async () => {
  const home = await Deno.makeTempDir({ prefix: "gw-upload-" });
  const launch = { cwd: home, flags: ["--config", join(REPO_ROOT, "deno.json"), ...permissionFlags()] };
  const gw = await startServe({ ABSTRACTGATEWAY_AUTH_TOKEN: "upload-token" }, [], 30_000, launch);
  const auth = { Authorization: "Bearer upload-token" };
  try {
    const bundle = bigUploadBundle(35, 20);
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
