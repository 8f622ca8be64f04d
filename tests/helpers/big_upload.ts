/**
 * Large `.flow` uploads for the upload liveness test and bench: a bundle with an incompressible stored
 * part and a compressible deflated part beside a small flow, its multipart body encoded up front, and a
 * `/api/health` probe that runs in its own process.
 */
import { unzipSync, zipSync } from "fflate";
import { makeBundle, startEndFlow } from "./bundles.ts";

export const MIB = 1024 * 1024;

export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

/** Hex text of random bytes: deflates about 2:1. */
export function hexText(n: number): Uint8Array {
  const digits = new TextEncoder().encode("0123456789abcdef");
  const out = randomBytes(n);
  for (let i = 0; i < n; i++) out[i] = digits[out[i] & 15];
  return out;
}

/** manifest + one flow + `extra` entries, zipped (level 0 = stored for the incompressible part). */
export function bigBundle(extra: Record<string, [Uint8Array, { level: 0 | 1 }]>): Uint8Array {
  const small = makeBundle({ bundleId: "big", version: "1.0.0", flows: { root: startEndFlow("root") } });
  return zipSync({ ...unzipSync(small), ...extra });
}

/** `noiseMiB` of random bytes (stored) and `textMiB` of hex text (deflated ~2:1) beside the flow. */
export function bigUploadBundle(noiseMiB: number, textMiB: number): Uint8Array {
  return bigBundle({
    "assets/noise.bin": [randomBytes(noiseMiB * MIB), { level: 0 }],
    "assets/text.txt": [hexText(textMiB * MIB), { level: 1 }],
  });
}

/** The multipart body, encoded before the probe starts (so the client's own encoding cannot delay it). */
export async function uploadRequest(
  bytes: Uint8Array,
): Promise<{ body: Uint8Array<ArrayBuffer>; contentType: string }> {
  const form = new FormData();
  form.append("file", new Blob([bytes as Uint8Array<ArrayBuffer>]), "big.flow");
  const encoded = new Response(form);
  const contentType = encoded.headers.get("content-type")!;
  return { body: new Uint8Array(await encoded.arrayBuffer()), contentType };
}

/**
 * Asks `<url>/api/health` every 50 ms from its own process (the test's event loop is busy sending the
 * upload), until stopped; resolves with the slowest answer seen.
 */
export function startHealthProbe(url: string): { stop(): Promise<{ worst: number; probes: number }> } {
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
