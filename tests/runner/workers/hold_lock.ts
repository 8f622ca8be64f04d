/**
 * Test worker: takes the runner lock of the data dir given as argv[0] (waiting if it is held),
 * prints `WAITING` / `LOCKED <pid>` on stdout, then holds it until killed or SIGTERM.
 */
import { RunnerLock } from "../../../src/runner/lock.ts";

const lock = new RunnerLock(Deno.args[0]);
const stop = new AbortController();
Deno.addSignalListener("SIGTERM", () => stop.abort());
const got = await lock.acquire(stop.signal, { pollMs: 100, onWait: () => console.log("WAITING") });
if (got) console.log(`LOCKED ${Deno.pid}`);
await new Promise<void>((resolve) => stop.signal.addEventListener("abort", () => resolve()));
lock.release();
console.log("RELEASED");
Deno.exit(0);
