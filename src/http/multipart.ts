/**
 * Reads multipart/form-data request bodies (uploads): 400 for anything else or a malformed body.
 * `readMultipart` parses a whole (capped) form in memory; `spoolMultipart` streams the body, writing the
 * one file field to a temp file as it arrives, so a large upload is never held in memory.
 */
import type { Context } from "hono";
import { join } from "node:path";
import { BodyReadError, BodyTooLargeError } from "../security/body_deadline.ts";
import { tempSuffix, writeAll } from "../util/atomic.ts";
import { HttpError } from "./errors.ts";
import { concatBytes } from "../util/bytes.ts";

/** Errors of the body read itself keep their own status (408, 413), not the client's syntax (400). */
function asMultipartError(err: unknown): unknown {
  if (err instanceof BodyReadError || err instanceof BodyTooLargeError || err instanceof HttpError) {
    return err;
  }
  return new HttpError(400, `Invalid multipart body: ${err instanceof Error ? err.message : String(err)}`);
}

function requireMultipart(c: Context, expected: string): string {
  const type = c.req.header("content-type") ?? "";
  if (!/^multipart\/form-data/i.test(type)) throw new HttpError(400, expected);
  const boundary = type.match(/;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i);
  if (!boundary) throw new HttpError(400, "Invalid multipart body: no boundary in the Content-Type");
  return boundary[1] ?? boundary[2];
}

/** The form of a multipart request; `expected` describes the fields for the 400 when it is not one. */
export async function readMultipart(c: Context, expected: string): Promise<FormData> {
  requireMultipart(c, expected);
  try {
    return await c.req.raw.formData();
  } catch (err) {
    throw asMultipartError(err);
  }
}

/** A form whose file field waits on disk; `dispose` removes the file. */
export interface SpooledForm {
  fields: Map<string, string>;
  file: { path: string; size: number } | null;
  dispose(): Promise<void>;
}

export interface SpoolOptions {
  /** The field that carries the file; other fields are small text values. */
  fileField: string;
  /** Where the temp file goes (created when missing). */
  dir: string;
  /** A larger file is refused with 413 (it stops being written once it passes this size). */
  maxFileBytes: number;
  /** What the file is, for the 413 message ("Bundle"). */
  label: string;
  /** The 400 message for a request that is not multipart. */
  expected: string;
}

/** Largest value of a text field, and of one part's header block. */
const MAX_FIELD_BYTES = 64 * 1024;
const MAX_HEADER_BYTES = 16 * 1024;

/** Streams a multipart body: text fields into `fields`, the file field into a temp file under `opts.dir`. */
export async function spoolMultipart(c: Context, opts: SpoolOptions): Promise<SpooledForm> {
  const boundary = requireMultipart(c, opts.expected);
  const body = c.req.raw.body;
  if (!body) throw new HttpError(400, opts.expected);
  const fields = new Map<string, string>();
  let file: { path: string; size: number } | null = null;
  const dispose = async () => {
    if (file) await Deno.remove(file.path).catch(() => {});
  };
  try {
    await parseMultipart(body, boundary, (name, filename) => {
      if (name === opts.fileField && filename !== null) {
        if (file) throw new HttpError(400, `Invalid multipart body: more than one '${opts.fileField}' field`);
        file = { path: join(opts.dir, `.upload.${tempSuffix()}.tmp`), size: 0 };
        return fileSink(file, opts);
      }
      return fieldSink(name, fields);
    });
  } catch (err) {
    await dispose();
    throw asMultipartError(err);
  }
  return { fields, file, dispose };
}

interface PartSink {
  write(chunk: Uint8Array): Promise<void> | void;
  end(): Promise<void> | void;
}

function fileSink(target: { path: string; size: number }, opts: SpoolOptions): PartSink {
  let handle: Deno.FsFile | null = null;
  let refused = false;
  const close = () => {
    handle?.close();
    handle = null;
  };
  return {
    async write(chunk) {
      target.size += chunk.length;
      if (refused) return; // counted to the end of the part (still under the body cap) for the 413's message
      if (target.size > opts.maxFileBytes) {
        refused = true;
        close();
        await Deno.remove(target.path).catch(() => {});
        return;
      }
      if (!handle) {
        await Deno.mkdir(opts.dir, { recursive: true });
        handle = await Deno.open(target.path, { write: true, createNew: true });
      }
      try {
        await writeAll(handle, chunk);
      } catch (err) {
        close();
        throw err;
      }
    },
    end() {
      close();
      if (refused) {
        throw new HttpError(
          413,
          `${opts.label} too large (${target.size} bytes > ${opts.maxFileBytes} bytes)`,
        );
      }
    },
  };
}

function fieldSink(name: string, fields: Map<string, string>): PartSink {
  const chunks: Uint8Array[] = [];
  let size = 0;
  return {
    write(chunk) {
      size += chunk.length;
      if (size > MAX_FIELD_BYTES) {
        throw new HttpError(
          400,
          `Invalid multipart body: field '${name}' is longer than ${MAX_FIELD_BYTES} bytes`,
        );
      }
      chunks.push(chunk.slice());
    },
    end() {
      const decoder = new TextDecoder();
      fields.set(name, chunks.map((c, i) => decoder.decode(c, { stream: i < chunks.length - 1 })).join(""));
    },
  };
}

const encoder = new TextEncoder();
const CRLF = encoder.encode("\r\n");
const HEADER_END = encoder.encode("\r\n\r\n");

function indexOf(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  for (let i = hay.indexOf(needle[0], from); i >= 0; i = hay.indexOf(needle[0], i + 1)) {
    if (i + needle.length > hay.length) return -1;
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

/** `name` and `filename` (null when absent) of a part's Content-Disposition. */
function disposition(headerBlock: string): { name: string; filename: string | null } {
  const line = headerBlock.split("\r\n").find((l) => /^content-disposition\s*:/i.test(l));
  const param = (key: string) => line?.match(new RegExp(`;\\s*${key}=(?:"([^"]*)"|([^;\\s]+))`, "i"));
  const name = param("name");
  if (!line || !name) throw new Error("a part has no Content-Disposition name");
  const filename = param("filename");
  return { name: name[1] ?? name[2], filename: filename ? filename[1] ?? filename[2] : null };
}

/**
 * Parses `body` part by part (RFC 7578), handing each part's content to the sink `open` returns as it
 * arrives; only a delimiter's length of bytes is held back between reads.
 */
async function parseMultipart(
  body: ReadableStream<Uint8Array>,
  boundary: string,
  open: (name: string, filename: string | null) => PartSink,
): Promise<void> {
  const first = encoder.encode(`--${boundary}`);
  const delimiter = encoder.encode(`\r\n--${boundary}`);
  const reader = body.getReader();
  let buf: Uint8Array = new Uint8Array(0);
  const more = async (what: string) => {
    const next = await reader.read();
    if (next.done) throw new Error(`the body ended ${what}`);
    buf = concatBytes(buf, next.value);
  };
  /** Reads until `needle` is in the buffer; returns its index. */
  const find = async (needle: Uint8Array, max: number, what: string) => {
    for (let at = indexOf(buf, needle);; at = indexOf(buf, needle)) {
      if (at >= 0) return at;
      if (buf.length > max) throw new Error(`${what} is too long`);
      await more(`inside ${what}`);
    }
  };
  try {
    // (Each index is awaited before `buf` is read again: a read replaces `buf`.)
    const opened = await find(first, MAX_HEADER_BYTES, "the preamble");
    buf = buf.subarray(opened + first.length);
    for (;;) {
      while (buf.length < 2) await more("after a boundary");
      if (buf[0] === 0x2d && buf[1] === 0x2d) return; // "--": the closing delimiter
      const lineEnd = await find(CRLF, 256, "a boundary line");
      buf = buf.subarray(lineEnd + CRLF.length);
      let headers = "";
      if (!(buf.length >= 2 && buf[0] === 0x0d && buf[1] === 0x0a)) {
        const end = await find(HEADER_END, MAX_HEADER_BYTES, "a part's headers");
        headers = new TextDecoder().decode(buf.subarray(0, end));
        buf = buf.subarray(end + HEADER_END.length);
      } else buf = buf.subarray(CRLF.length);
      const { name, filename } = disposition(headers);
      const sink = open(name, filename);
      try {
        for (;;) {
          const at = indexOf(buf, delimiter);
          if (at >= 0) {
            await sink.write(buf.subarray(0, at));
            buf = buf.subarray(at + delimiter.length);
            break;
          }
          const keep = Math.min(buf.length, delimiter.length - 1);
          if (buf.length > keep) {
            await sink.write(buf.subarray(0, buf.length - keep));
            buf = buf.slice(buf.length - keep);
          }
          await more(`inside the part '${name}'`);
        }
      } finally {
        await sink.end();
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
