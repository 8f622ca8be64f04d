/**
 * Running out of file descriptors (issue 17): idle connections past the process's open-file limit
 * make `accept()` fail with EMFILE. `serve` must back off and keep accepting, not exit. The real
 * binary entry runs under `prlimit` with a small limit; skipped (with the reason) without prlimit.
 */
import assert from "node:assert/strict";
import { FROM_REPO, startServe } from "../helpers/gateway_process.ts";
import { sandboxTempDir } from "../helpers/paths.ts";

const LIMIT = 128;

async function hasPrlimit(): Promise<boolean> {
  try {
    return (await new Deno.Command("prlimit", { args: ["--version"], stdout: "null", stderr: "null" })
      .output())
      .success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "serve keeps accepting after idle connections exhaust its file descriptors (EMFILE)",
  ignore: !(await hasPrlimit()),
  async fn() {
    const dir = await sandboxTempDir("emfile-");
    const gw = await startServe(
      { ABSTRACTGATEWAY_DATA_DIR: dir, ABSTRACTGATEWAY_AUTH_TOKEN: "t", ABSTRACTGATEWAY_LOG_LEVEL: "error" },
      ["--no-runner"],
      30_000,
      { ...FROM_REPO, wrapper: ["prlimit", `--nofile=${LIMIT}:${LIMIT}`] },
    );
    const { hostname, port } = new URL(gw.url);
    const conns: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < LIMIT + 32; i++) {
        try {
          conns.push(await Deno.connect({ hostname, port: Number(port) }));
        } catch {
          break; // refused while the server backs off: the limit was reached
        }
      }
      await new Promise((r) => setTimeout(r, 500));
      for (const c of conns.splice(0)) c.close();
      const deadline = Date.now() + 15_000;
      let status = 0;
      while (status !== 200 && Date.now() < deadline) {
        status = await fetch(`${gw.url}/api/health`, { signal: AbortSignal.timeout(2_000) })
          .then(async (r) => (await r.body?.cancel(), r.status), () => 0);
        if (status !== 200) await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(status, 200, `serve stopped answering: ${gw.stderr().slice(-800)}`);
      assert.match(gw.stderr(), /out of file descriptors/);
    } finally {
      for (const c of conns) c.close();
      await gw.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
