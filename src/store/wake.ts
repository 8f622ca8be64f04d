/**
 * In-process WakeBus shared by every backend, plus the hook for cross-process wake sources.
 *
 * Topics: `ledger:<run_id>` (after a ledger append), `commands` (after a command append or
 * completion), `runs` (after a run save or delete). A listener on `*` receives every topic.
 * A save or delete of one known run is published as `run:<run_id>` (runTopic), which reaches both
 * that topic's listeners and every `runs` listener (with the precise topic), so a listener that cares
 * about one run (an SSE hub) is not woken by every other run's saves; a bare `runs` means "some run".
 * Backends with leases (PostgreSQL) also publish `runs:claimable` (RUNS_CLAIMABLE) after a run save
 * made outside a runner's lease on that run (a run started, a child created): work other runners
 * may claim. A runner's saves of the run it holds do not, so idle runners are not woken by them.
 * The topic `changed` (WAKE_CHANGED) means "something changed, the source cannot say what": it is
 * delivered to every listener whatever its topic. Cross-process sources publish precise topics
 * when they can (file watching maps file names; SQLite reads what changed) and `changed` otherwise.
 * A wake-up is a hint, never data: subscribers always re-read the store.
 */
import type { WakeBus } from "./types.ts";
import { errorText, logger } from "../util/log.ts";

export const WAKE_ALL = "*";
export const WAKE_CHANGED = "changed";
export const RUNS_CLAIMABLE = "runs:claimable";
/** Shared stores only (Stores.announce): a node installed or removed a bundle; reload the flows dir. */
export const BUNDLES_CHANGED = "bundles";
export const ledgerTopic = (runId: string): string => `ledger:${runId}`;
export const RUN_TOPIC_PREFIX = "run:";
export const runTopic = (runId: string): string => `${RUN_TOPIC_PREFIX}${runId}`;

/** A cross-process change detector, running only while the bus has listeners. */
export interface WakeSource {
  /** Starts watching; returns a function that stops it and resolves once fully stopped. */
  start(publish: (topic: string) => void): () => Promise<void>;
}

type Listener = (topic: string) => void;
const log = logger("store");

export class InProcessWakeBus implements WakeBus {
  #listeners = new Map<string, Set<Listener>>();
  #count = 0;
  #stopSource: (() => Promise<void>) | null = null;
  #stopping = new Set<Promise<void>>();
  #closed = false;

  constructor(private readonly source: WakeSource | null = null) {}

  publish(topic: string): void {
    const targets = topic === WAKE_CHANGED
      ? [...this.#listeners.values()]
      : [this.#listeners.get(topic), this.#listeners.get(WAKE_ALL)];
    if (topic.startsWith(RUN_TOPIC_PREFIX)) targets.push(this.#listeners.get("runs"));
    for (const set of targets) {
      for (const listener of set ?? []) {
        try {
          listener(topic);
        } catch (err) {
          log.warn("wake listener failed", { topic, error: errorText(err) });
        }
      }
    }
  }

  subscribe(topic: string, listener: Listener): () => void {
    if (this.#closed) throw new Error("wake bus is closed");
    let set = this.#listeners.get(topic);
    if (!set) this.#listeners.set(topic, set = new Set());
    // Wrap so the same function may subscribe twice and unsubscribe each independently.
    const entry: Listener = (t) => listener(t);
    set.add(entry);
    this.#count++;
    if (this.#count === 1 && this.source) {
      try {
        this.#stopSource = this.source.start((t) => this.publish(t));
      } catch (err) {
        // Without the source, wake-ups still flow within this process; other processes' writes are
        // then only seen by the subscribers' own safety polls.
        log.warn("cross-process wake-ups unavailable", { error: errorText(err) });
      }
    }
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      set.delete(entry);
      if (set.size === 0 && this.#listeners.get(topic) === set) this.#listeners.delete(topic);
      this.#count--;
      if (this.#count === 0) this.#stop();
    };
  }

  #stop(): void {
    const stop = this.#stopSource;
    this.#stopSource = null;
    if (!stop) return;
    const stopping: Promise<void> = stop().finally(() => this.#stopping.delete(stopping));
    this.#stopping.add(stopping);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    this.#count = 0;
    this.#stop();
    await Promise.all(this.#stopping);
  }
}
