/**
 * Upload bench: a ~60 MB `.flow` upload (35 MiB stored noise + 40 MiB deflated text) to a real `serve`
 * subprocess started with the release permission flags, while a separate probe process asks
 * `/api/health` every 50 ms. Prints the upload time, the slowest health answer and the server's peak RSS
 * (VmHWM) before and after the upload. `--baseline <checkout>` runs the same against another checkout
 * (e.g. `git worktree add /tmp/base main`), interleaved round by round in this one invocation.
 *
 *   deno run -A bench/upload_bench.ts [--rounds 2] [--baseline /tmp/base]
 */
import { parseArgs } from "node:util";
import { bigUploadBundle, startHealthProbe, uploadRequest } from "../tests/helpers/big_upload.ts";
import { startServe } from "../tests/helpers/gateway_process.ts";
import { benchTrees } from "./compare.ts";
import { treeLaunch } from "./serve_process.ts";

const TOKEN = "upload-bench-token";

/** Peak resident set of process `pid` so far, in MiB (Linux /proc). */
async function peakRssMiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(status.match(/^VmHWM:\s+(\d+) kB/m)?.[1] ?? NaN) / 1024;
}

interface Sample {
  uploadMs: number;
  worstHealthMs: number;
  peakBeforeMiB: number;
  peakAfterMiB: number;
  status: number;
}

async function measure(
  checkout: string,
  request: Awaited<ReturnType<typeof uploadRequest>>,
): Promise<Sample> {
  const home = await Deno.makeTempDir({ prefix: "gw-upload-bench-" });
  const gw = await startServe({ ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN }, [], 60_000, treeLaunch(checkout, home));
  try {
    const peakBeforeMiB = await peakRssMiB(gw.child.pid);
    const probe = startHealthProbe(gw.url);
    const t0 = performance.now();
    const res = await fetch(`${gw.url}/api/gateway/bundles/upload`, {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": request.contentType },
      body: request.body,
    });
    await res.body?.cancel();
    const uploadMs = performance.now() - t0;
    const seen = await probe.stop();
    return {
      uploadMs,
      worstHealthMs: seen.worst,
      peakBeforeMiB,
      peakAfterMiB: await peakRssMiB(gw.child.pid),
      status: res.status,
    };
  } finally {
    await gw.stop();
    await Deno.remove(home, { recursive: true });
  }
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { rounds: { type: "string", default: "2" }, baseline: { type: "string" } },
  });
  const checkouts = benchTrees(values.baseline);
  const bundle = bigUploadBundle(35, 40);
  const request = await uploadRequest(bundle);
  console.log(`bundle ${(bundle.length / 1024 / 1024).toFixed(1)} MiB; target: no health answer over 1 s`);
  console.log(
    "| checkout | round | status | upload s | worst /api/health ms | peak RSS MiB before -> after |",
  );
  console.log("|---|---:|---:|---:|---:|---|");
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const { label, path } of checkouts) {
      const s = await measure(path, request);
      console.log(
        `| ${label} | ${round} | ${s.status} | ${(s.uploadMs / 1000).toFixed(1)} | ${
          Math.round(s.worstHealthMs)
        } | ` +
          `${Math.round(s.peakBeforeMiB)} -> ${Math.round(s.peakAfterMiB)} |`,
      );
    }
  }
}

if (import.meta.main) await main(Deno.args);
