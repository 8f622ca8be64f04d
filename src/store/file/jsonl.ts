/**
 * JSONL files (ledgers, the command inbox, command outcomes): a per-process index of record byte
 * ranges, refreshed incrementally from the file size, plus torn-tail repair for appenders.
 *
 * Reading rules (upstream-compatible): blank lines are skipped; a line holding several concatenated
 * objects yields each of them; a line that yields nothing is skipped; the unterminated last line (a
 * crash or a concurrent writer mid-write) is invisible until it ends with a newline.
 */
import { dirname } from "node:path";
import { KeyedMutex } from "../mutex.ts";
import { isPlainObject } from "../validate.ts";
import { logger } from "../../util/log.ts";
import { isNotFound, readAt } from "./fsutil.ts";
import { syncDir, writeAll } from "../../util/atomic.ts";
import { concatBytes } from "../../util/bytes.ts";

const NL = 0x0a;
const CHUNK = 1 << 20;
const PROBE = 32;
const decoder = new TextDecoder();
const log = logger("store");

export type JsonObj = Record<string, unknown>;

function parseObject(bytes: Uint8Array): JsonObj | null {
  try {
    const value = JSON.parse(decoder.decode(bytes));
    return isPlainObject(value) ? value : null;
  } catch {
    return null;
  }
}

const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0d || b === NL;

/** End (exclusive) of the balanced `{…}` starting at `from`, or -1 if it does not close before `end`. */
function objectEnd(bytes: Uint8Array, from: number, end: number): number {
  let depth = 0;
  let inString = false;
  for (let i = from; i < end; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === 0x5c) i++;
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x7b) depth++;
    else if (b === 0x7d && --depth === 0) return i + 1;
  }
  return -1;
}

/** [start, end, parsed object] of one record. */
type LineRecord = [number, number, JsonObj];

/**
 * Byte ranges of the objects on one line [start, end). Fast path: the whole line is one object.
 * Otherwise split at balanced braces; a piece that does not parse (a torn write followed by a whole
 * record) is searched for a later `{` where valid objects resume.
 */
function lineRecords(bytes: Uint8Array, start: number, end: number): LineRecord[] {
  while (start < end && isSpace(bytes[start])) start++;
  while (end > start && isSpace(bytes[end - 1])) end--;
  if (start === end) return [];
  const whole = parseObject(bytes.subarray(start, end));
  if (whole) return [[start, end, whole]];
  const out: LineRecord[] = [];
  let i = start;
  while (i < end) {
    if (bytes[i] !== 0x7b) {
      i++;
      continue;
    }
    const close = objectEnd(bytes, i, end);
    const record = close > 0 ? parseObject(bytes.subarray(i, close)) : null;
    if (record) {
      out.push([i, close, record]);
      i = close;
    } else {
      i++; // not a valid object here: try the next `{`
    }
  }
  return out;
}

export interface IndexState<M> {
  ino: number | null;
  /** Offset just after the last complete line indexed. */
  end: number;
  probe: Uint8Array;
  starts: number[];
  ends: number[];
  meta: M[];
}

/** Extracts what an index keeps per record; null drops the record. */
type Describe<M> = (record: JsonObj) => M | null;

export class JsonlIndex<M> {
  #state: IndexState<M> = JsonlIndex.#empty<M>(null);
  #mutex = new KeyedMutex();

  constructor(private readonly describe: Describe<M>) {}

  static #empty<M>(ino: number | null): IndexState<M> {
    return { ino, end: 0, probe: new Uint8Array(0), starts: [], ends: [], meta: [] };
  }

  /** Brings the index up to the file's current complete lines. `file` null = the file is absent. */
  async refresh(file: Deno.FsFile | null): Promise<IndexState<M>> {
    return await this.#mutex.run("", async () => {
      if (file === null) return this.#state = JsonlIndex.#empty<M>(null);
      const stat = await file.stat();
      let state = this.#state;
      const valid = state.ino === stat.ino && stat.size >= state.end &&
        equalBytes(await readAt(file, state.end - state.probe.length, state.probe.length), state.probe);
      if (!valid) state = this.#state = JsonlIndex.#empty<M>(stat.ino);
      if (stat.size > state.end) await this.#scan(file, state, stat.size);
      return state;
    });
  }

  async #scan(file: Deno.FsFile, state: IndexState<M>, size: number): Promise<void> {
    let offset = state.end;
    let carry = new Uint8Array(0);
    while (offset < size) {
      const chunk = await readAt(file, offset, Math.min(CHUNK, size - offset));
      if (chunk.length === 0) break;
      const buf = concatBytes(carry, chunk);
      const base = offset - carry.length;
      let lineStart = 0;
      for (let nl = buf.indexOf(NL); nl >= 0; nl = buf.indexOf(NL, lineStart)) {
        for (const [s, e, record] of lineRecords(buf, lineStart, nl)) {
          const meta = this.describe(record);
          if (meta === null) continue;
          state.starts.push(base + s);
          state.ends.push(base + e);
          state.meta.push(meta);
        }
        lineStart = nl + 1;
        state.end = base + lineStart;
        state.probe = buf.slice(Math.max(0, lineStart - PROBE), lineStart);
      }
      carry = buf.slice(lineStart);
      offset += chunk.length;
    }
  }

  /**
   * Records lines this process just appended at byte `at` (under the write lock), unless the index
   * moved meanwhile (a concurrent refresh already indexed some or all of them from the file).
   */
  async extend(state: IndexState<M>, at: number, appended: Uint8Array, records: JsonObj[]): Promise<void> {
    await this.#mutex.run("", () => {
      if (this.#state !== state || state.end !== at) return Promise.resolve();
      let pos = 0;
      for (const record of records) {
        const nl = appended.indexOf(NL, pos);
        const meta = this.describe(record);
        if (meta !== null) {
          state.starts.push(at + pos);
          state.ends.push(at + nl);
          state.meta.push(meta);
        }
        pos = nl + 1;
      }
      state.end = at + appended.length;
      state.probe = appended.slice(Math.max(0, appended.length - PROBE));
      return Promise.resolve();
    });
  }

  current(): IndexState<M> {
    return this.#state;
  }
}

/** Parses the records [from, to) of an index state with one read. */
export async function readRecords<M>(
  file: Deno.FsFile,
  state: IndexState<M>,
  from: number,
  to: number,
): Promise<JsonObj[]> {
  if (from >= to) return [];
  const base = state.starts[from];
  const bytes = await readAt(file, base, state.ends[to - 1] - base);
  const out: JsonObj[] = [];
  for (let i = from; i < to; i++) {
    const record = parseObject(bytes.subarray(state.starts[i] - base, state.ends[i] - base));
    if (record === null) throw new Error(`record ${i} changed under the index`);
    out.push(record);
  }
  return out;
}

/** Opens `path` for reading and runs `fn` on the refreshed index; `empty` when the file is absent. */
export async function readIndexed<M, T>(
  path: string,
  index: JsonlIndex<M>,
  fn: (file: Deno.FsFile, state: IndexState<M>) => Promise<T>,
  empty: T,
): Promise<T> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await index.refresh(null);
    return empty;
  }
  try {
    return await fn(file, await index.refresh(file));
  } finally {
    file.close();
  }
}

/** What an append decided under the lock: its result, and the records to write (none = no write). */
export interface AppendDecision<R> {
  result: R;
  records: JsonObj[];
}

/**
 * Appends to `file` (opened at `path`; the caller holds the write lock): repairs the tail, refreshes
 * the index, lets `decide` return the result and the records, writes them in one fsynced write (and
 * fsyncs the directory when the file was just created), then extends the index.
 */
export async function appendIndexed<M, R>(
  file: Deno.FsFile,
  created: boolean,
  path: string,
  index: JsonlIndex<M>,
  decide: (state: IndexState<M>) => AppendDecision<R>,
): Promise<R> {
  const { size, repaired } = await repairTail(file);
  if (repaired) log.warn("repaired torn JSONL tail", { file: path, action: repaired });
  const state = await index.refresh(file);
  const { result, records } = decide(state);
  if (records.length > 0) {
    const bytes = encodeLines(records);
    await file.seek(size, Deno.SeekMode.Start);
    await writeAll(file, bytes);
    await file.syncData();
    if (created) await syncDir(dirname(path));
    await index.extend(state, size, bytes, records);
  }
  return result;
}

/** Serialises records as whole lines for one write. */
function encodeLines(records: unknown[]): Uint8Array {
  return new TextEncoder().encode(records.map((r) => JSON.stringify(r) + "\n").join(""));
}

/**
 * Makes the file end with a complete line before an append (caller holds the write lock): an
 * unterminated tail that is a whole object gets its newline (it is the record a crashed writer had
 * fully written), anything else is truncated away. Returns the resulting size.
 */
async function repairTail(file: Deno.FsFile): Promise<{ size: number; repaired: string | null }> {
  const size = (await file.stat()).size;
  if (size === 0) return { size, repaired: null };
  const last = await readAt(file, size - 1, 1);
  if (last[0] === NL) return { size, repaired: null };
  let lineStart = 0;
  for (let pos = size; pos > 0;) {
    const from = Math.max(0, pos - 65536);
    const chunk = await readAt(file, from, pos - from);
    const nl = chunk.lastIndexOf(NL);
    if (nl >= 0) {
      lineStart = from + nl + 1;
      break;
    }
    pos = from;
  }
  const tail = await readAt(file, lineStart, size - lineStart);
  if (parseObject(tail)) {
    await file.seek(size, Deno.SeekMode.Start);
    await file.write(new Uint8Array([NL]));
    return { size: size + 1, repaired: "terminated" };
  }
  await file.truncate(lineStart);
  return { size: lineStart, repaired: `truncated ${size - lineStart} bytes` };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Every record in a whole JSONL file's bytes (complete lines only, the same rules as the index). */
export function parseJsonl(bytes: Uint8Array): JsonObj[] {
  const out: JsonObj[] = [];
  let start = 0;
  for (let nl = bytes.indexOf(NL); nl >= 0; nl = bytes.indexOf(NL, start)) {
    for (const [, , record] of lineRecords(bytes, start, nl)) out.push(record);
    start = nl + 1;
  }
  return out;
}
