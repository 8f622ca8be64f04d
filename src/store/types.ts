/**
 * Store interfaces. Every backend (file, SQLite, and later PostgreSQL) implements all of them;
 * callers never know which one they hold. All methods are async so a networked backend fits.
 *
 * Durability rule: a method that resolves has made its write durable (fsync / COMMIT). The ledger
 * is the source of truth: an acknowledged append is never lost or reordered, across crashes and
 * across processes sharing one data dir.
 */
import type {
  CommandRecord,
  JsonObject,
  RunState,
  RunStatus,
  StepRecord,
  WaitReason,
} from "../runtime/types.ts";

export interface RunQuery {
  status?: RunStatus | RunStatus[];
  workflowId?: string;
  parentRunId?: string;
  sessionId?: string;
  waitReason?: WaitReason;
  /** Exact `waiting.wait_key` match (event delivery). */
  waitKey?: string;
  actorId?: string;
  /** Inclusive bounds on `created_at` (ISO strings). */
  createdAfter?: string;
  createdBefore?: string;
  /** Page size; default 100. */
  limit?: number;
  /** Opaque cursor from a previous page's `next_cursor`. */
  cursor?: string | null;
}

export interface RunPage {
  /** Newest `updated_at` first. */
  items: RunState[];
  next_cursor: string | null;
  /** Entries that could not be read (e.g. a corrupt run file), named so an operator can fix them. */
  errors?: StoreEntryError[];
}

export interface StoreEntryError {
  /** File path (file backend) or `table:key` (SQL backends). */
  location: string;
  error: string;
}

/** Thrown when one stored entry cannot be parsed. The message names the file / row. */
export class StoreCorruptError extends Error {
  constructor(readonly location: string, detail: string) {
    super(`corrupt store entry ${location}: ${detail}`);
    this.name = "StoreCorruptError";
  }
}

export interface RunStore {
  save(run: RunState): Promise<void>;
  load(runId: string): Promise<RunState | null>;
  /**
   * The run's status, or null when there is no such run: what a ledger stream checks on every run
   * save (terminal?) and on connect (exists?), without reading and parsing the whole run document
   * where the store keeps the status apart (SQLite, PostgreSQL).
   */
  status(runId: string): Promise<RunStatus | null>;
  list(query?: RunQuery): Promise<RunPage>;
  /**
   * The runner's scheduling query (one runner per data dir), ids only, no run document read: runs it
   * may tick now — gateway-owned, not paused, running or waiting on an `until` at or before `nowIso` —
   * none of `exclude`, the longest ready first (a running run since its last update, a due wait since
   * its `until`: FIFO), at most `limit`.
   */
  listRunnable(nowIso: string, limit: number, exclude: ReadonlySet<string>): Promise<string[]>;
  /** Earliest pending `until` among waiting runs (for timer scheduling), or null. */
  nextWaitUntil(): Promise<string | null>;
  listChildren(parentRunId: string): Promise<RunState[]>;
  delete(runId: string): Promise<boolean>;
}

export interface LedgerPage {
  items: StepRecord[];
  /** `after + items.length`; never clamped (after beyond the end returns `after`). */
  next_after: number;
}

export interface LedgerStore {
  /** Appends in order, atomically as a batch; resolves with the ledger length after the append. */
  append(runId: string, records: StepRecord[]): Promise<number>;
  /**
   * Optional (backends that hold runs and ledger in one database): appends `records` to `run`'s
   * ledger and saves `run` as ONE durable write — after a crash both are there or neither. Callers
   * without it append first, then save.
   */
  appendWithRun?(run: RunState, records: StepRecord[]): Promise<number>;
  /** `after` = number of records already consumed (an offset, not an id). */
  read(runId: string, after: number, limit: number): Promise<LedgerPage>;
  count(runId: string): Promise<number>;
  delete(runId: string): Promise<boolean>;
}

export type NewCommand = Omit<CommandRecord, "seq">;

export interface CommandAppendResult {
  accepted: boolean;
  duplicate: boolean;
  seq: number;
}

export type CommandOutcomeStatus = "applied" | "failed";

/** What the runner did with one command; readable by clients via GET /commands/{id}. */
export interface CommandOutcome {
  command_id: string;
  seq: number;
  run_id: string;
  type: string;
  status: CommandOutcomeStatus;
  error: string | null;
  applied_at: string;
}

export const RUNNER_CONSUMER = "gateway_runner";

export interface CommandStore {
  /** Idempotent by `command_id`: a duplicate returns the original seq with accepted=false. */
  append(command: NewCommand): Promise<CommandAppendResult>;
  /** Commands with seq > after, ascending, at most `limit`. */
  listAfter(after: number, limit: number): Promise<CommandRecord[]>;
  get(commandId: string): Promise<CommandRecord | null>;
  lastSeq(): Promise<number>;
  loadCursor(consumer?: string): Promise<number>;
  /**
   * Records the outcome of a command and advances the consumer cursor to `outcome.seq` as one
   * durable step: after a crash either both are visible or neither is (an outcome that exists
   * means "already applied", which lets the runner skip it instead of applying it twice).
   */
  complete(outcome: CommandOutcome, consumer?: string): Promise<void>;
  /**
   * `complete` for a batch: every outcome (an existing one for a command_id is kept) and the cursor
   * advanced to the batch's highest seq, as one durable step (one transaction / one fsync).
   */
  completeMany(outcomes: CommandOutcome[], consumer?: string): Promise<void>;
  getOutcome(commandId: string): Promise<CommandOutcome | null>;
}

export interface ArtifactMeta {
  artifact_id: string;
  /** Full sha256 hex of the bytes (content-addressed blob). */
  blob_id: string;
  content_type: string;
  size_bytes: number;
  created_at: string;
  run_id: string | null;
  tags: Record<string, string>;
  metadata: JsonObject;
  filename: string | null;
}

export interface ArtifactStoreOptions {
  run_id?: string | null;
  content_type?: string;
  tags?: Record<string, string>;
  metadata?: JsonObject;
  artifact_id?: string;
  filename?: string | null;
}

export interface ArtifactStore {
  store(content: Uint8Array, options?: ArtifactStoreOptions): Promise<ArtifactMeta>;
  getMetadata(artifactId: string): Promise<ArtifactMeta | null>;
  load(artifactId: string): Promise<{ meta: ArtifactMeta; content: Uint8Array } | null>;
  /** Newest first. */
  listByRun(runId: string): Promise<ArtifactMeta[]>;
  delete(artifactId: string): Promise<boolean>;
}

/**
 * Wake-up path: stores publish a topic after a durable write; waiters (SSE streams, the runner)
 * subscribe instead of polling. Topics: `ledger:<run_id>`, `commands`, `runs`.
 * A backend that is shared between processes (file, SQLite, PostgreSQL) must also deliver
 * wake-ups caused by another process's writes (file watching, data_version polling, LISTEN/NOTIFY).
 * A wake-up is a hint, never data: subscribers always re-read the store.
 */
export interface WakeBus {
  publish(topic: string): void;
  /** Returns the unsubscribe function. The topic `*` receives every wake-up. */
  subscribe(topic: string, listener: (topic: string) => void): () => void;
  close(): Promise<void>;
}

export type StoreBackend = "file" | "sqlite" | "postgres";

/**
 * Time-limited claims on runs, for backends shared by several runners (PostgreSQL). A claim is a row
 * (run id, owner, expiry): whoever holds an unexpired claim is the only runner touching that run.
 */
export interface LeaseStore {
  /**
   * Non-blocking: claims `key` for `owner` when it is free, expired or already `owner`'s; resolves the
   * claim's fencing token (a fresh number on every claim), or null when someone else holds it.
   */
  claim(key: string, owner: string, ttlMs: number): Promise<number | null>;
  /**
   * Claims up to `limit` runnable runs (gateway-owned, running or with a due `until` wait, not paused,
   * not in `exclude`) that no live lease holds, in one statement; rows other runners are claiming right
   * now are skipped, never waited for. Oldest-updated first.
   */
  claimRunnable(query: RunnableClaim): Promise<ClaimedRun[]>;
  /** Extends `owner`'s claims on `keys`; returns the keys still held (a missing one was lost). */
  renew(keys: string[], owner: string, ttlMs: number): Promise<string[]>;
  release(key: string, owner: string): Promise<void>;
  releaseAll(owner: string): Promise<void>;
}

/** One runner process as its heartbeat last described it. */
export interface RunnerSeen {
  runner_id: string;
  /** Where the runner connects from, as the store sees it. */
  host: string;
  pid: number;
  started_at: string;
  last_seen: string;
  /** Milliseconds since `last_seen`, on the store's clock (so nodes' clocks need not agree). */
  age_ms: number;
}

/** Runner heartbeats kept in the shared store, so every API node sees every runner. */
export interface RunnerRegistry {
  /** Records that `runnerId` is alive now (inserting it on its first beat). */
  beat(runner: { runner_id: string; pid: number; started_at: string }): Promise<void>;
  /** Runners seen within `withinMs`, most recently seen first. */
  seen(withinMs: number): Promise<RunnerSeen[]>;
  /** A runner stopping cleanly removes itself. */
  remove(runnerId: string): Promise<void>;
}

export interface RunnableClaim {
  owner: string;
  ttlMs: number;
  limit: number;
  /** `until` waits at or before this instant are due. */
  nowIso: string;
  exclude: string[];
}

export interface ClaimedRun {
  run: RunState;
  token: number;
}

export interface Stores {
  readonly backend: StoreBackend;
  readonly runs: RunStore;
  readonly ledger: LedgerStore;
  readonly commands: CommandStore;
  readonly artifacts: ArtifactStore;
  readonly wake: WakeBus;
  /** Present when several runners may share this store (then they coordinate through leases). */
  readonly leases?: LeaseStore;
  /** Present when runners on other machines share this store: their heartbeats, for readiness. */
  readonly runners?: RunnerRegistry;
  /**
   * Shared stores only: tells every node sharing this store (this one included) `topic` on its wake bus,
   * for changes that live outside the store (e.g. BUNDLES_CHANGED after an upload to a shared flows dir).
   */
  announce?(topic: string): Promise<void>;
  close(): Promise<void>;
}

export interface OpenStoresOptions {
  backend: StoreBackend;
  dataDir: string;
  /** SQLite file; must lie under dataDir. Default `<dataDir>/gateway.sqlite3`. */
  dbPath?: string;
  /** PostgreSQL connection URL (backend `postgres`). */
  databaseUrl?: string;
  /** PostgreSQL pool size per process; default 10. */
  poolSize?: number;
  /**
   * PostgreSQL: `work` for a runner-only process, which is woken by commands, runs to claim and bundle
   * changes only, not by every step and run save on every node (`all`, the default).
   */
  wakeScope?: "all" | "work";
}
