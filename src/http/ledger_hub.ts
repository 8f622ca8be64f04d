/**
 * Ledger SSE fan-out: one hub per run that has open streams. On a wake-up the hub reads the new
 * ledger records once (from its own cursor), encodes each SSE frame once and hands the same bytes to
 * every stream of that run; it also checks the run's state once per run-save wake-up (not once per
 * stream) and ends every stream with `done` when the run is terminal and fully read.
 *
 * A stream joins with its own cursor: it replays from the store (its own reads) until it reaches the
 * hub's cursor, then attaches in the same synchronous step, so no append can fall between the two.
 * Frames the stream already has (it read past the hub, or asked for `after` beyond the end) are
 * skipped by cursor, so a stream sees every record exactly once and in order.
 *
 * The hub is removed with its run's last stream (and with it its wake-up subscription): memory grows
 * with the streams open, never with the runs ever streamed. A hub's store reads may still be in flight
 * when it closes; `LedgerHubs.close()` (server shutdown) waits for them, so none outlives the stores.
 */
import { isTerminal } from "../runtime/types.ts";
import type { Stores } from "../store/types.ts";
import { ledgerTopic, RUN_TOPIC_PREFIX } from "../store/wake.ts";
import { errorText, logger } from "../util/log.ts";
import { doneFrame, stepFrame } from "./sse_format.ts";

const log = logger("http.sse");
const PAGE = 500;
const MAX_READ_FAILURES = 8;

/** One encoded step frame and the ledger position it carries. */
interface Frame {
  cursor: number;
  bytes: Uint8Array;
}

/** How a hub ends its streams: with `done` (terminal), silently (gone, failed, closed). */
export type HubEnd = "terminal" | "gone" | "failed";

/** One stream as a hub sees it. */
export interface HubMember {
  /** Position of the last record this stream has sent (starts at its `after`). */
  cursor: number;
  /** False once the stream ended; the hub then forgets it. */
  readonly open: boolean;
  /** Sends one frame (the hub's bytes are shared by every member: never modify them). */
  send(frame: Uint8Array): void;
  /** Resolves once the consumer has taken most of what is queued (replay waits on it: backpressure). */
  writable(): Promise<void>;
  /** True when more is queued than the stream may hold: live frames then end it (`overflow`). */
  backlogged(): boolean;
  /** Ends the stream because its consumer fell too far behind (it resumes with Last-Event-ID). */
  overflow(): void;
  /** The run ended (or cannot be followed): send `done` for "terminal", then close. */
  finish(end: HubEnd, done: Uint8Array | null): void;
}

export interface HubMetrics {
  sseHubOpened(): void;
  sseHubClosed(): void;
}

class RunHub {
  /** Records read by this hub so far: the ledger length as far as it knows. */
  cursor = 0;
  ended: HubEnd | null = null;
  readonly #ready = Promise.withResolvers<void>();
  /** Resolves on close: a retry backoff in progress ends early (shutdown does not wait it out). */
  readonly #closing = Promise.withResolvers<void>();
  readonly #members = new Set<HubMember>();
  #joining = 0;
  #ledgerDue = true;
  #stateDue = true;
  #running = false;
  #closed = false;
  readonly #unsubscribe: () => void;

  constructor(
    readonly runId: string,
    private readonly stores: Stores,
    private readonly onEmpty: (hub: RunHub) => void,
    /** Keeps a read loop's promise until it settles (see `LedgerHubs.close`). */
    private readonly track: (task: Promise<void>) => void,
  ) {
    this.#unsubscribe = stores.wake.subscribe(ledgerTopic(runId), () => this.wake(true, false));
    this.#running = true;
    track(this.#loop(true));
  }

  get size(): number {
    return this.#members.size + this.#joining;
  }

  /** A wake-up (ledger append, run save) or a safety re-check; coalesced while a read is running. */
  wake(ledger: boolean, state: boolean): void {
    this.#ledgerDue ||= ledger;
    this.#stateDue ||= state;
    if (this.#running || this.#closed) return;
    this.#running = true;
    this.track(this.#loop(false));
  }

  /** Replays `member` from the store up to the hub's cursor, then attaches it (see the file comment). */
  async join(member: HubMember): Promise<void> {
    this.#joining++;
    let failures = 0;
    try {
      await this.#ready.promise;
      while (member.open) {
        if (member.cursor >= this.cursor) return this.#attach(member);
        // Replay is paced by the consumer (a long ledger to a slow client is not an overflow).
        await member.writable();
        if (!member.open) break;
        if (member.cursor >= this.cursor) return this.#attach(member);
        try {
          const page = await this.stores.ledger.read(
            this.runId,
            member.cursor,
            Math.min(PAGE, this.cursor - member.cursor),
          );
          failures = 0;
          // Fewer records than the hub has read: the ledger was deleted meanwhile; the hub says how it ends.
          if (page.items.length === 0) return this.#attach(member);
          for (const record of page.items) {
            if (!member.open) break;
            member.send(stepFrame(++member.cursor, record));
          }
        } catch (err) {
          if (++failures > MAX_READ_FAILURES) {
            log.warn("ledger stream replay gave up", {
              run_id: this.runId,
              cursor: member.cursor,
              error: errorText(err),
            });
            return member.finish("failed", null);
          }
          await this.#backoff(failures);
        }
      }
    } finally {
      this.#joining--;
      if (!member.open) this.#checkEmpty();
    }
  }

  leave(member: HubMember): void {
    if (this.#members.delete(member)) this.#checkEmpty();
  }

  #attach(member: HubMember): void {
    if (!member.open) return;
    if (this.ended) return this.#finish(member, this.ended, null);
    this.#members.add(member);
  }

  #finish(member: HubMember, end: HubEnd, shared: Uint8Array | null): void {
    const done = end !== "terminal"
      ? null
      : member.cursor === this.cursor && shared
      ? shared
      : doneFrame(this.runId, Math.max(member.cursor, this.cursor));
    member.finish(end, done);
  }

  #checkEmpty(): void {
    if (this.size === 0) this.close();
  }

  /** Stops following the run (last stream gone, or the run ended). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    this.#ready.resolve();
    this.#closing.resolve();
    this.onEmpty(this);
  }

  /** Waits before retrying a failed read (longer after each failure); cut short by close. */
  async #backoff(failures: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const elapsed = new Promise<void>((resolve) =>
      timer = setTimeout(resolve, Math.min(1000, 20 * 2 ** failures))
    );
    await Promise.race([elapsed, this.#closing.promise]);
    clearTimeout(timer);
  }

  /** Reads and fans out until nothing is due; `#running` is set by the caller (one loop at a time). */
  async #loop(first: boolean): Promise<void> {
    let failures = 0;
    try {
      if (first) {
        // Subscribed before counting, so every append is in the count or wakes the hub: an append
        // published before the count began is in it (no drain needed for it); one published while the
        // count is in flight sets `#ledgerDue` again (drained below, harmlessly if it was counted).
        while (!this.#closed) {
          try {
            this.#ledgerDue = false;
            this.cursor = await this.stores.ledger.count(this.runId);
            break;
          } catch (err) {
            if (++failures > MAX_READ_FAILURES) return this.#end("failed", err);
            await this.#backoff(failures);
          }
        }
        failures = 0;
        this.#ready.resolve();
      }
      while (!this.#closed && (this.#ledgerDue || this.#stateDue)) {
        const readLedger = this.#ledgerDue;
        const checkState = this.#stateDue;
        this.#ledgerDue = this.#stateDue = false;
        try {
          // State first: the runtime appends a run's records before (or with) the save of its state,
          // so a terminal state read here means every record is in the ledger, and the one read below
          // catches them all (drain-then-state needed a second read after a terminal state).
          const state = checkState ? await this.#runState() : "active";
          if (readLedger || state === "terminal") await this.#drain();
          if (state === "gone") return this.#end("gone");
          if (state === "terminal") return this.#end("terminal");
          failures = 0;
        } catch (err) {
          // A store read can fail transiently (e.g. racing a writer): retry with backoff; the
          // cursor only moved past records already sent, so nothing is lost or repeated.
          if (++failures > MAX_READ_FAILURES) return this.#end("failed", err);
          log.debug("ledger read failed; retrying", {
            run_id: this.runId,
            cursor: this.cursor,
            error: errorText(err),
          });
          await this.#backoff(failures);
          this.#ledgerDue = this.#stateDue = true;
        }
      }
    } finally {
      this.#running = false;
    }
  }

  /** Reads every record past the hub's cursor and fans each frame, encoded once, out to the members. */
  async #drain(): Promise<void> {
    while (!this.#closed) {
      const page = await this.stores.ledger.read(this.runId, this.cursor, PAGE);
      if (this.#closed) return;
      const frames: Frame[] = page.items.map((record) => {
        const cursor = ++this.cursor;
        return { cursor, bytes: stepFrame(cursor, record) };
      });
      for (const member of this.#members) {
        // Checked once per page, before it: a page larger than the limit still reaches a keeping-up stream.
        if (frames.length > 0 && member.backlogged()) {
          member.overflow(); // ends the stream, which leaves (and closes the hub if it was the last)
          continue;
        }
        for (const frame of frames) {
          if (!member.open) break;
          if (frame.cursor <= member.cursor) continue;
          member.cursor = frame.cursor;
          member.send(frame.bytes);
        }
      }
      if (page.items.length < PAGE) return;
    }
  }

  /** "terminal", "gone" (deleted, e.g. purged) or "active"; unreadable counts as active. */
  async #runState(): Promise<"terminal" | "gone" | "active"> {
    try {
      const status = await this.stores.runs.status(this.runId);
      return status === null ? "gone" : isTerminal(status) ? "terminal" : "active";
    } catch {
      return "active"; // unreadable right now: keep streaming
    }
  }

  #end(end: HubEnd, err?: unknown): void {
    if (end === "failed") {
      log.warn("ledger stream gave up", { run_id: this.runId, cursor: this.cursor, error: errorText(err) });
    }
    this.ended = end;
    const done = end === "terminal" ? doneFrame(this.runId, this.cursor) : null;
    const members = [...this.#members];
    this.#members.clear();
    // Removed before the members hear of it: a stream opened from now on starts a fresh hub.
    this.close();
    for (const member of members) this.#finish(member, end, done);
  }
}

/** The hubs of one HTTP app: at most one per run, only while that run has open streams. */
export class LedgerHubs {
  readonly #hubs = new Map<string, RunHub>();
  /** Hub read loops and stream replays in progress (each holds a store read while it waits). */
  readonly #tasks = new Set<Promise<void>>();
  #offRuns: (() => void) | null = null;
  #closed = false;

  constructor(private readonly stores: Stores, private readonly metrics?: HubMetrics) {}

  /** Hubs alive now (runs with open streams). */
  get size(): number {
    return this.#hubs.size;
  }

  /**
   * Adds a stream to its run's hub (replay first, then live); returns how to leave. The member's
   * `finish` is called when the run ends; leaving is the stream's job when it closes for any reason.
   */
  join(runId: string, member: HubMember): () => void {
    if (this.#closed) {
      member.finish("gone", null);
      return () => {};
    }
    let hub = this.#hubs.get(runId);
    if (!hub) {
      // One `runs` subscription for all hubs: a precise `run:<id>` wakes that run's hub only; a bare
      // `runs` or `changed` (another process saved some run) re-checks them all, each coalesced.
      this.#offRuns ??= this.stores.wake.subscribe("runs", (topic) => this.#runsChanged(topic));
      hub = new RunHub(runId, this.stores, (gone) => this.#remove(gone), (task) => this.#track(task));
      this.#hubs.set(runId, hub);
      this.metrics?.sseHubOpened();
    }
    const joined = hub;
    this.#track(joined.join(member));
    return () => joined.leave(member);
  }

  /**
   * Stops every hub (server shutdown; streams are ended by their own shutdown signal) and resolves once
   * no hub has a store read in flight, so none outlives the stores closed next.
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const hub of [...this.#hubs.values()]) hub.close();
    while (this.#tasks.size > 0) await Promise.allSettled(this.#tasks);
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    // Loops and replays handle their own errors; this only forgets the task once it has settled.
    task.catch(() => {}).finally(() => this.#tasks.delete(task));
  }

  /** Whether a hub follows `runId` now (so the run existed at its last check). */
  following(runId: string): boolean {
    return this.#hubs.has(runId);
  }

  /** A stream's safety re-check (on its keep-alive): a missed wake-up costs at most one heartbeat. */
  recheck(runId: string): void {
    this.#hubs.get(runId)?.wake(true, true);
  }

  #runsChanged(topic: string): void {
    if (topic.startsWith(RUN_TOPIC_PREFIX)) {
      this.#hubs.get(topic.slice(RUN_TOPIC_PREFIX.length))?.wake(false, true);
      return;
    }
    for (const hub of this.#hubs.values()) hub.wake(false, true);
  }

  #remove(hub: RunHub): void {
    if (this.#hubs.get(hub.runId) !== hub) return;
    this.#hubs.delete(hub.runId);
    this.metrics?.sseHubClosed();
    if (this.#hubs.size === 0) {
      this.#offRuns?.();
      this.#offRuns = null;
    }
  }
}
