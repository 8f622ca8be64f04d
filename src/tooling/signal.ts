/**
 * Signals a managed process and everything it started. Each managed process runs in its own session
 * (process group id = its pid), so the whole group is signalled: stopping `sh -c "a; b"` must not
 * leave `b` running. `Deno.kill` needs unrestricted `--allow-run`; under the `gateway-tooling`
 * permission set (run limited to declared executables) the group is signalled through /usr/bin/kill,
 * which that set allows. As a last resort only the leader is signalled.
 */
import { logger } from "../util/log.ts";

const log = logger("tooling");
const KILL_BIN = "/usr/bin/kill";

export async function signalGroup(child: Deno.ChildProcess, signal: "SIGTERM" | "SIGKILL"): Promise<void> {
  try {
    Deno.kill(-child.pid, signal);
    return;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || isNoSuchProcess(err)) return;
    if (!(err instanceof Deno.errors.NotCapable)) throw err;
  }
  try {
    const out = await new Deno.Command(KILL_BIN, {
      args: ["-s", signal.slice(3), "--", `-${child.pid}`],
      stdin: "null",
      stdout: "null",
      stderr: "null",
      clearEnv: true,
    }).output();
    if (out.success) return;
  } catch (err) {
    log.warn("cannot signal the process group; signalling the leader only", {
      pid: child.pid,
      error: err instanceof Error ? err.message : String(err),
    });
  }
  try {
    child.kill(signal);
  } catch {
    // already exited
  }
}

function isNoSuchProcess(err: unknown): boolean {
  return err instanceof Error && /ESRCH|No such process/i.test(err.message);
}
