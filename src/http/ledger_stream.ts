/**
 * One SSE ledger stream: replays records past the cursor, then receives its run's new records from
 * the run's hub (ledger_hub.ts: one store read and one encoding per append, shared by every stream of
 * the run), sends `: keep-alive` when idle, and ends with `event: done` once the run is terminal and
 * fully caught up. Everything it holds (hub membership, heartbeat check) is released when the stream ends for
 * any reason; a client going away cancels the body stream (`cancel()` below), which Deno.serve does
 * on disconnect (request.signal is not used: it also fires on normal completion).
 *
 * A consumer that stops reading must not hold memory or its run's other streams back: once more than
 * `MAX_QUEUED_BYTES` wait in its queue when new live records arrive, the stream sends a comment saying
 * so and ends; what was queued is still delivered, and the client resumes with `Last-Event-ID`
 * (replay first). Replay itself is paced by the consumer instead (it waits until the queue drains).
 */
import type { HubEnd, HubMember, LedgerHubs } from "./ledger_hub.ts";
import { keepAliveFrame, retryFrame } from "./sse_format.ts";
import { checkEveryQuarter } from "./sse_heartbeat.ts";
import { onAbort } from "../util/on_abort.ts";
import { reportsEnd } from "../util/stream_end.ts";

/** Reconnect delay suggested to EventSource clients. */
const RETRY_MS = 2000;
/** Bytes a stream may have waiting for its consumer before it is ended (frames are shared, not copied). */
const MAX_QUEUED_BYTES = 1 << 20;
const encoder = new TextEncoder();
const overflowFrame = encoder.encode(": too far behind; ended: reconnect with Last-Event-ID\n\n");

export interface LedgerStreamOptions {
  hubs: LedgerHubs;
  runId: string;
  after: number;
  heartbeatMs: number;
  /** Aborted when the server shuts down: the stream ends without `done`, and clients resume elsewhere. */
  shutdown?: AbortSignal;
}

export function ledgerStream(opts: LedgerStreamOptions): ReadableStream<Uint8Array> {
  const { hubs, runId, heartbeatMs, shutdown } = opts;
  let closed = false;
  let stopBeats = () => {};
  let leave = () => {};
  let end = () => {};
  let ended = () => {};
  let unlisten = () => {};

  const stop = () => {
    if (closed) return;
    closed = true;
    stopBeats();
    unlisten();
    leave();
    ended();
  };

  let drained: (() => void) | null = null;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let lastSent = Date.now();
      const queued = () => -(controller.desiredSize ?? 0);
      const emit = (chunk: Uint8Array) => {
        if (closed) return;
        try {
          controller.enqueue(chunk);
        } catch {
          return stop(); // the consumer went away between two checks
        }
        lastSent = Date.now();
      };
      // Graceful shutdown waits for every open response; a stream of a live run would never end by itself.
      end = () => {
        const wasOpen = !closed;
        stop();
        drained?.();
        if (wasOpen) {
          try {
            controller.close();
          } catch {
            // the consumer already cancelled
          }
        }
      };
      if (shutdown?.aborted) return end();
      if (shutdown) unlisten = onAbort(shutdown, end);
      emit(retryFrame(RETRY_MS));
      const member: HubMember = {
        cursor: opts.after,
        get open() {
          return !closed;
        },
        send: emit,
        writable: () =>
          closed || queued() <= MAX_QUEUED_BYTES / 2
            ? Promise.resolve()
            : new Promise((resolve) => (drained = resolve)),
        backlogged: () => queued() > MAX_QUEUED_BYTES,
        overflow() {
          emit(overflowFrame);
          end();
        },
        finish(_end: HubEnd, done: Uint8Array | null) {
          if (done) emit(done);
          end();
        },
      };
      stopBeats = checkEveryQuarter(heartbeatMs, () => {
        if (closed || Date.now() - lastSent < heartbeatMs) return;
        emit(keepAliveFrame);
        hubs.recheck(runId);
      });
      leave = hubs.join(runId, member);
    },
    pull() {
      // The consumer emptied the queue: a replay waiting on `writable` goes on.
      const resume = drained;
      drained = null;
      resume?.();
    },
    cancel() {
      stop();
      drained?.();
    },
  }, { highWaterMark: 0, size: (chunk) => chunk.byteLength });
  // Middlewares that only wait for the end (SSE slots, open-stream metrics) subscribe instead of
  // wrapping the body in more streams; the end is reported when the stream stops producing.
  if (!closed) ended = reportsEnd(body);
  return body;
}
