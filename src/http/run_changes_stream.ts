/**
 * `GET /runs/changes/stream`: tells run lists when to re-read `GET /runs`, instead of polling. It
 * carries hints, not data: one `event: runs` frame when the stream opens (so a reconnecting client
 * catches up on what it missed) and one after any run is saved (store wake-ups, which also cover
 * other processes' writes), coalesced to at most one frame per `COALESCE_MS` because a run tick
 * saves several times. `: keep-alive` after a heartbeat without a frame. Timers and the subscription end with the stream.
 */
import type { WakeBus } from "../store/types.ts";
import { nowIso } from "../util/time.ts";
import { keepAliveFrame, retryFrame, runsChangedFrame } from "./sse_format.ts";
import { checkEveryQuarter } from "./sse_heartbeat.ts";
import { onAbort } from "../util/on_abort.ts";

const COALESCE_MS = 250;
const RETRY_MS = 2000;

export interface RunChangesStreamOptions {
  wake: WakeBus;
  heartbeatMs: number;
  /** Aborted when the server shuts down: the stream ends, and clients reconnect elsewhere. */
  shutdown?: AbortSignal;
}

export function runChangesStream(opts: RunChangesStreamOptions): ReadableStream<Uint8Array> {
  let closed = false;
  let pending: ReturnType<typeof setTimeout> | undefined;
  let stopBeats = () => {};
  let lastSent = Date.now();
  let unsubscribe = () => {};
  let end = () => {};
  let unlisten = () => {};
  const stop = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    clearTimeout(pending);
    stopBeats();
    unlisten();
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (chunk: Uint8Array) => {
        if (closed) return;
        try {
          controller.enqueue(chunk);
          lastSent = Date.now();
        } catch {
          stop(); // the consumer went away
        }
      };
      end = () => {
        const wasOpen = !closed;
        stop();
        if (wasOpen) controller.close();
      };
      if (opts.shutdown?.aborted) return end();
      if (opts.shutdown) unlisten = onAbort(opts.shutdown, end);
      send(retryFrame(RETRY_MS));
      send(runsChangedFrame(nowIso()));
      unsubscribe = opts.wake.subscribe("runs", () => {
        if (closed || pending !== undefined) return;
        pending = setTimeout(() => {
          pending = undefined;
          send(runsChangedFrame(nowIso()));
        }, COALESCE_MS);
      });
      stopBeats = checkEveryQuarter(opts.heartbeatMs, () => {
        if (Date.now() - lastSent >= opts.heartbeatMs) send(keepAliveFrame);
      });
    },
    cancel() {
      stop();
    },
  });
}
