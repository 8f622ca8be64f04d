/**
 * File command inbox (upstream layout): `commands.jsonl` (one CommandRecord per line),
 * `commands_cursor.json` ({"cursor", "updated_at"}), plus `command_outcomes.jsonl` (our addition).
 * Every write holds flock on `.commands.lock`, and seq allocation re-reads the inbox tail under that
 * lock, so two processes never hand out the same seq; concurrent appends of this process share one
 * write and one fsync (group commit). Reading rules: the first line with a given
 * command_id wins, lines with seq <= 0 are ignored, and a seq not above the previous one is skipped
 * by listAfter (a consumer cursor would pass over it anyway).
 */
import { join } from "node:path";
import type { CommandRecord, CommandType, JsonObject } from "../../runtime/types.ts";
import type { CommandAppendResult, CommandOutcome, CommandStore, NewCommand, WakeBus } from "../types.ts";
import { RUNNER_CONSUMER } from "../types.ts";
import { assertId, assertOffset, commandRecord, isPlainObject, validateCommand } from "../validate.ts";
import { maxSeq, validateOutcomes } from "../outcome.ts";
import { nowIso } from "../../util/time.ts";
import { openOrCreate, readIfExists } from "./fsutil.ts";
import { writeFileAtomic } from "../../util/atomic.ts";
import { FileLock } from "./lock.ts";
import { BatchQueue, type ItemResult, settle } from "./write_batch.ts";
import {
  type AppendDecision,
  appendIndexed,
  type IndexState,
  JsonlIndex,
  type JsonObj,
  readIndexed,
  readRecords,
} from "./jsonl.ts";

interface CommandMeta {
  seq: number;
  command_id: string;
}
interface OutcomeMeta {
  seq: number;
  command_id: string;
  consumer: string;
}

const describeCommand = (r: JsonObj): CommandMeta | null =>
  typeof r.command_id === "string" && r.command_id !== "" && Number.isSafeInteger(r.seq) &&
    (r.seq as number) > 0
    ? { seq: r.seq as number, command_id: r.command_id }
    : null;

const describeOutcome = (r: JsonObj): OutcomeMeta | null =>
  typeof r.command_id === "string" && Number.isSafeInteger(r.seq)
    ? { seq: r.seq as number, command_id: r.command_id, consumer: String(r.consumer ?? RUNNER_CONSUMER) }
    : null;

/** Lookup tables derived from an index state, extended as the state grows. */
class CommandView {
  byId = new Map<string, number>();
  /** Index positions whose seq strictly increases (what listAfter serves). */
  ordered: number[] = [];
  maxSeq = 0;
  seen = 0;
  constructor(readonly state: IndexState<CommandMeta>) {}

  update(): this {
    const meta = this.state.meta;
    for (; this.seen < meta.length; this.seen++) {
      const m = meta[this.seen];
      if (this.byId.has(m.command_id)) continue;
      this.byId.set(m.command_id, this.seen);
      if (m.seq > this.maxSeq) {
        this.ordered.push(this.seen);
        this.maxSeq = m.seq;
      }
    }
    return this;
  }
}

class OutcomeView {
  byId = new Map<string, number>();
  maxSeq = new Map<string, number>();
  seen = 0;
  constructor(readonly state: IndexState<OutcomeMeta>) {}

  update(): this {
    const meta = this.state.meta;
    for (; this.seen < meta.length; this.seen++) {
      const m = meta[this.seen];
      if (!this.byId.has(m.command_id)) this.byId.set(m.command_id, this.seen);
      this.maxSeq.set(m.consumer, Math.max(this.maxSeq.get(m.consumer) ?? 0, m.seq));
    }
    return this;
  }
}

export function toCommandRecord(r: JsonObj): CommandRecord {
  const payload = isPlainObject(r.payload) ? r.payload as JsonObject : {};
  return {
    command_id: String(r.command_id),
    run_id: String(r.run_id ?? ""),
    type: String(r.type ?? "") as CommandType,
    payload,
    ts: String(r.ts ?? ""),
    client_id: typeof r.client_id === "string" ? r.client_id : null,
    seq: r.seq as number,
  };
}

/** An outcome line of `command_outcomes.jsonl` (also read by `gateway migrate`). */
export function toOutcome(r: JsonObj): CommandOutcome {
  return {
    command_id: String(r.command_id),
    seq: r.seq as number,
    run_id: String(r.run_id ?? ""),
    type: String(r.type ?? ""),
    status: r.status === "failed" ? "failed" : "applied",
    error: typeof r.error === "string" ? r.error : null,
    applied_at: String(r.applied_at ?? ""),
  };
}

export const cursorFileName = (consumer: string): string =>
  consumer === RUNNER_CONSUMER ? "commands_cursor.json" : `commands_cursor.${consumer}.json`;

/** The cursor file's value; a missing or corrupt file counts as 0 (upstream rule). */
export function parseCursorFile(bytes: Uint8Array | null): number {
  if (bytes === null) return 0;
  try {
    const cursor = JSON.parse(new TextDecoder().decode(bytes))?.cursor;
    return Number.isSafeInteger(cursor) && cursor > 0 ? cursor : 0;
  } catch {
    return 0;
  }
}

export class FileCommandStore implements CommandStore {
  #lock: FileLock;
  #commands = new JsonlIndex<CommandMeta>(describeCommand);
  #outcomes = new JsonlIndex<OutcomeMeta>(describeOutcome);
  #commandView: CommandView | null = null;
  #outcomeView: OutcomeView | null = null;
  readonly #inbox: string;
  readonly #outcomesPath: string;

  constructor(private readonly dir: string, private readonly wake: WakeBus) {
    this.#lock = new FileLock(join(dir, ".commands.lock"));
    this.#inbox = join(dir, "commands.jsonl");
    this.#outcomesPath = join(dir, "command_outcomes.jsonl");
  }

  #view(state: IndexState<CommandMeta>): CommandView {
    if (this.#commandView?.state !== state) this.#commandView = new CommandView(state);
    return this.#commandView.update();
  }

  #outcomeViewOf(state: IndexState<OutcomeMeta>): OutcomeView {
    if (this.#outcomeView?.state !== state) this.#outcomeView = new OutcomeView(state);
    return this.#outcomeView.update();
  }

  /** Concurrent appends share one locked write and one fsync; each resolves once it is durable. */
  readonly #appends = new BatchQueue<NewCommand, CommandAppendResult>(async (batch) => {
    const results = await this.#lock.run(() =>
      this.#appendLine(
        this.#inbox,
        this.#commands,
        (state): AppendDecision<ItemResult<CommandAppendResult>[]> => {
          const view = this.#view(state);
          const batchIds = new Map<string, number>();
          const records: JsonObj[] = [];
          const results = batch.map((command) =>
            settle((): CommandAppendResult => {
              const stored = view.byId.get(command.command_id);
              const existing = batchIds.get(command.command_id) ??
                (stored === undefined ? undefined : state.meta[stored].seq);
              if (existing !== undefined) return { accepted: false, duplicate: true, seq: existing };
              const record = commandRecord(command, view.maxSeq + records.length + 1);
              batchIds.set(command.command_id, record.seq);
              records.push(record as unknown as JsonObj);
              return { accepted: true, duplicate: false, seq: record.seq };
            })
          );
          return { result: results, records };
        },
      )
    );
    if (results.some((r) => r.ok && r.value.accepted)) this.wake.publish("commands");
    return results;
  }, true);

  append(command: NewCommand): Promise<CommandAppendResult> {
    try {
      validateCommand(command);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#appends.add(command);
  }

  /** Under the lock: appends what `decide` returns to the JSONL file at `path`. */
  async #appendLine<M, R>(
    path: string,
    index: JsonlIndex<M>,
    decide: (state: IndexState<M>) => AppendDecision<R>,
  ): Promise<R> {
    const { file, created } = await openOrCreate(path);
    try {
      return await appendIndexed(file, created, path, index, decide);
    } finally {
      file.close();
    }
  }

  async listAfter(after: number, limit: number): Promise<CommandRecord[]> {
    assertOffset("after", after);
    assertOffset("limit", limit);
    return await readIndexed(this.#inbox, this.#commands, async (file, state) => {
      const { ordered } = this.#view(state);
      let lo = 0;
      let hi = ordered.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (state.meta[ordered[mid]].seq > after) hi = mid;
        else lo = mid + 1;
      }
      const picked = ordered.slice(lo, lo + limit);
      if (picked.length === 0) return [];
      const first = picked[0];
      const rows = await readRecords(file, state, first, picked[picked.length - 1] + 1);
      return picked.map((p) => toCommandRecord(rows[p - first]));
    }, []);
  }

  async get(commandId: string): Promise<CommandRecord | null> {
    if (typeof commandId !== "string" || commandId === "") return null;
    return await readIndexed(this.#inbox, this.#commands, async (file, state) => {
      const pos = this.#view(state).byId.get(commandId);
      return pos === undefined ? null : toCommandRecord((await readRecords(file, state, pos, pos + 1))[0]);
    }, null);
  }

  async lastSeq(): Promise<number> {
    return await readIndexed(
      this.#inbox,
      this.#commands,
      (_f, state) => Promise.resolve(this.#view(state).maxSeq),
      0,
    );
  }

  async loadCursor(consumer: string = RUNNER_CONSUMER): Promise<number> {
    assertId("consumer", consumer);
    const fromFile = parseCursorFile(await readIfExists(join(this.dir, cursorFileName(consumer))));
    const fromOutcomes = await readIndexed(
      this.#outcomesPath,
      this.#outcomes,
      (_f, state) => Promise.resolve(this.#outcomeViewOf(state).maxSeq.get(consumer) ?? 0),
      0,
    );
    return Math.max(fromFile, fromOutcomes);
  }

  complete(outcome: CommandOutcome, consumer: string = RUNNER_CONSUMER): Promise<void> {
    return this.completeMany([outcome], consumer);
  }

  /** Outcome lines first (one fsynced write), then the cursor file; loadCursor covers a crash in between. */
  async completeMany(outcomes: CommandOutcome[], consumer: string = RUNNER_CONSUMER): Promise<void> {
    validateOutcomes(outcomes);
    assertId("consumer", consumer);
    if (outcomes.length === 0) return;
    const cursorPath = join(this.dir, cursorFileName(consumer));
    await this.#lock.run(async () => {
      await this.#appendLine(this.#outcomesPath, this.#outcomes, (state): AppendDecision<null> => {
        const known = this.#outcomeViewOf(state).byId;
        const fresh = new Map<string, JsonObj>();
        for (const o of outcomes) {
          if (!known.has(o.command_id) && !fresh.has(o.command_id)) {
            fresh.set(o.command_id, { ...o, consumer });
          }
        }
        return { result: null, records: [...fresh.values()] };
      });
      const cursor = Math.max(parseCursorFile(await readIfExists(cursorPath)), maxSeq(outcomes));
      await writeFileAtomic(cursorPath, JSON.stringify({ cursor, updated_at: nowIso() }, null, 2));
    });
  }

  async getOutcome(commandId: string): Promise<CommandOutcome | null> {
    if (typeof commandId !== "string" || commandId === "") return null;
    return await readIndexed(this.#outcomesPath, this.#outcomes, async (file, state) => {
      const pos = this.#outcomeViewOf(state).byId.get(commandId);
      return pos === undefined ? null : toOutcome((await readRecords(file, state, pos, pos + 1))[0]);
    }, null);
  }

  async close(): Promise<void> {
    await this.#lock.close();
  }
}
