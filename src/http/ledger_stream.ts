/**
 * One SSE ledger stream: replays records past the cursor, then follows the ledger push-based
 * (store wake-ups), sends `: keep-alive` when idle, and ends with `event: done` once the run is
 * terminal and fully caught up. Everything it holds (subscriptions, timer) is released when the
 * stream ends for any reason; a client going away cancels the body stream (`cancel()` below), which
 * Deno.serve does on disconnect (request.signal is not used: it also fires on normal completion).
 */
import { isTerminal } from "../runtime/types.ts";
import type { Stores } from "../store/types.ts";
import { ledgerTopic } from "../store/wake.ts";
import { errorText, logger } from "../util/log.ts";
import { doneFrame, keepAliveFrame, retryFrame, stepFrame } from "./sse_format.ts";

const log = logger("http.sse");
const PAGE = 500;
const MAX_READ_FAILURES = 8;
/** Reconnect delay suggested to EventSource clients. */
const RETRY_MS = 2000;

export interface LedgerStreamOptions {
  stores: Stores;
  runId: string;
  after: number;
  heartbeatMs: number;
  /** Aborted when the server shuts down: the stream ends without `done`, and clients resume elsewhere. */
  shutdown?: AbortSignal;
}

export function ledgerStream(opts: LedgerStreamOptions): ReadableStream<Uint8Array> {
  const { stores, runId, heartbeatMs } = opts;
  let cursor = opts.after;
  let closed = false;
  // Each wake-up asks only for the read it needs: a ledger append for a ledger read, a run save
  // (`runs`: any run, the topic names none) for a run-state check. The runtime appends a run's
  // records before it saves the run, so every save that can end the stream comes with its own
  // `runs` wake-up; the wake-up `changed` reaches both listeners. Both are due at start.
  let ledgerDue = true;
  let stateDue = true;
  let wakeWaiter: (() => void) | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const unsubscribers = [
    stores.wake.subscribe(ledgerTopic(runId), () => {
      ledgerDue = true;
      wakeWaiter?.();
    }),
    stores.wake.subscribe("runs", () => {
      stateDue = true;
      wakeWaiter?.();
    }),
  ];

  const stop = () => {
    if (closed) return;
    closed = true;
    for (const u of unsubscribers.splice(0)) u();
    opts.shutdown?.removeEventListener("abort", endForShutdown);
    clearTimeout(timer);
    wakeWaiter?.();
  };
  // Graceful shutdown waits for every open response; a stream of a live run would never end by itself.
  let endForShutdown = () => {};

  /** Resolves on the next wake-up or after `ms`; returns true when it timed out. */
  const sleep = (ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      timer = setTimeout(() => {
        wakeWaiter = null;
        resolve(true);
      }, ms);
      wakeWaiter = () => {
        clearTimeout(timer);
        wakeWaiter = null;
        resolve(false);
      };
    });

  return new ReadableStream<Uint8Array>({
    async start(controller) {
      const emit = (chunk: Uint8Array) => {
        if (closed) return;
        try {
          controller.enqueue(chunk);
        } catch {
          stop(); // the consumer went away between two checks
        }
      };
      /** Emits every record past the cursor; true when anything was sent. */
      const drain = async (): Promise<boolean> => {
        let sent = false;
        while (!closed) {
          const page = await stores.ledger.read(runId, cursor, PAGE);
          for (const record of page.items) emit(stepFrame(++cursor, record));
          sent ||= page.items.length > 0;
          if (page.items.length < PAGE) break;
        }
        return sent;
      };
      /** "terminal", "gone" (deleted, e.g. purged) or "active"; unreadable counts as active. */
      const runState = async (): Promise<"terminal" | "gone" | "active"> => {
        try {
          const run = await stores.runs.load(runId);
          return run === null ? "gone" : isTerminal(run.status) ? "terminal" : "active";
        } catch {
          return "active"; // unreadable right now: keep streaming
        }
      };

      endForShutdown = () => {
        const wasOpen = !closed;
        stop();
        if (wasOpen) {
          try {
            controller.close();
          } catch {
            // the consumer already cancelled
          }
        }
      };
      if (opts.shutdown?.aborted) return endForShutdown();
      opts.shutdown?.addEventListener("abort", endForShutdown, { once: true });
      emit(retryFrame(RETRY_MS));
      let lastSent = Date.now();
      let failures = 0;
      while (!closed) {
        if (!ledgerDue && !stateDue) {
          const timedOut = await sleep(Math.max(1, heartbeatMs - (Date.now() - lastSent)));
          if (closed) break;
          if (timedOut && Date.now() - lastSent >= heartbeatMs) {
            emit(keepAliveFrame);
            lastSent = Date.now();
            // A missed wake-up costs at most one heartbeat: re-check on every keep-alive.
            ledgerDue = stateDue = true;
            continue;
          }
        }
        const readLedger = ledgerDue;
        const checkState = stateDue;
        ledgerDue = stateDue = false;
        try {
          if (readLedger && await drain()) lastSent = Date.now();
          const state = checkState ? await runState() : "active";
          if (state === "gone") break; // nothing more will come; a reconnect gets a 404
          if (state === "terminal") {
            // The runtime appends a run's records before saving its state, so once the state is
            // terminal every record is in the ledger: this last read catches any appended since.
            await drain();
            emit(doneFrame(runId, cursor));
            break;
          }
          failures = 0;
        } catch (err) {
          // A store read can fail transiently (e.g. racing a writer): retry with backoff; the
          // cursor only moved past records already sent, so nothing is lost or repeated.
          if (++failures > MAX_READ_FAILURES) {
            log.warn("ledger stream gave up", { run_id: runId, cursor, error: errorText(err) });
            break;
          }
          log.debug("ledger read failed; retrying", { run_id: runId, cursor, error: errorText(err) });
          await sleep(Math.min(1000, 20 * 2 ** failures));
          ledgerDue = stateDue = true;
        }
      }
      endForShutdown();
    },
    cancel() {
      stop();
    },
  });
}
