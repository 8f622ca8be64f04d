/** parseSse: WHATWG event-stream parsing, whatever the chunk boundaries. */
import assert from "node:assert/strict";
import { parseSse, type SseEvent } from "../../src/client/sse.ts";

function streamOf(chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return ReadableStream.from(chunks.map((c) => typeof c === "string" ? enc.encode(c) : c));
}

async function parse(chunks: (string | Uint8Array)[]): Promise<SseEvent[]> {
  return await Array.fromAsync(parseSse(streamOf(chunks)));
}

/** Every way to cut `text` into two chunks, plus one byte per chunk. */
function splits(text: string): Uint8Array[][] {
  const bytes = new TextEncoder().encode(text);
  const out: Uint8Array[][] = [[bytes], Array.from(bytes, (b) => Uint8Array.of(b))];
  for (let i = 1; i < bytes.length; i++) out.push([bytes.slice(0, i), bytes.slice(i)]);
  return out;
}

const ev = (data: string, extra: Partial<SseEvent> = {}): SseEvent => ({
  id: null,
  event: "message",
  data,
  retry: null,
  ...extra,
});

const GATEWAY_STREAM = [
  "retry: 2000",
  "",
  "id: 1",
  "event: step",
  'data: {"cursor": 1, "record": {"status": "completed", "node_id": "ü"}}',
  "",
  ": keep-alive",
  "",
  "id: 2",
  "event: step",
  'data: {"cursor": 2}',
  "",
  "event: done",
  'data: {"run_id": "r", "cursor": 2, "status": "terminal"}',
  "",
  "",
];

const GATEWAY_EVENTS: SseEvent[] = [
  ev('{"cursor": 1, "record": {"status": "completed", "node_id": "ü"}}', { id: "1", event: "step" }),
  ev('{"cursor": 2}', { id: "2", event: "step" }),
  ev('{"run_id": "r", "cursor": 2, "status": "terminal"}', { id: "2", event: "done" }),
];

Deno.test("sse: the gateway's frames parse the same at every chunk boundary (LF)", async () => {
  for (const chunks of splits(GATEWAY_STREAM.join("\n"))) {
    assert.deepEqual(await parse(chunks), GATEWAY_EVENTS);
  }
});

Deno.test("sse: CRLF and lone CR line endings, split anywhere, including between CR and LF", async () => {
  for (const eol of ["\r\n", "\r"]) {
    for (const chunks of splits(GATEWAY_STREAM.join(eol))) {
      assert.deepEqual(await parse(chunks), GATEWAY_EVENTS, `eol ${JSON.stringify(eol)}`);
    }
  }
  // A CRLF cut between its CR and LF is one line ending, not a line ending plus an empty line.
  assert.deepEqual(await parse(["data: a\r", "\ndata: b\r\n\r\n"]), [ev("a\nb")]);
  assert.deepEqual(await parse(["data: a\r", "\n", "\r", "\n"]), [ev("a")]);
});

Deno.test("sse: multi-line data, comments, field without colon, no space after colon", async () => {
  const text = [
    ": a comment before anything",
    "data: line one",
    ":comment between data lines",
    "data:line two",
    "data",
    "data:  two spaces keep one",
    "",
    "",
  ].join("\n");
  for (const chunks of splits(text)) {
    assert.deepEqual(await parse(chunks), [ev("line one\nline two\n\n two spaces keep one")]);
  }
});

Deno.test("sse: retry field, id persistence, unknown fields, and the blank-line dispatch rule", async () => {
  const events = await parse([
    "retry: 1500\nid: 7\nfoo: ignored\ndata: x\n\n",
    "retry: soon\ndata: y\n\n", // a non-numeric retry is ignored; the id carries over
    "event: ping\n\n", // no data line: nothing is dispatched, and the name does not carry over
    "\n\n", // blank lines alone dispatch nothing
    "id: 9\ndata: z\n\n",
    "data\n\n", // a bare `data` line is an event with empty data
    "data: unterminated", // an event without its blank line at EOF is dropped
  ]);
  assert.deepEqual(events, [
    ev("x", { id: "7", retry: 1500 }),
    ev("y", { id: "7" }),
    ev("z", { id: "9" }),
    ev("", { id: "9" }),
  ]);
});

Deno.test("sse: a multi-byte character split across chunks decodes intact", async () => {
  const bytes = new TextEncoder().encode("data: é€😀\n\n");
  for (let i = 1; i < bytes.length; i++) {
    assert.deepEqual(await parse([bytes.slice(0, i), bytes.slice(i)]), [ev("é€😀")]);
  }
});

Deno.test("sse: stopping early cancels the underlying stream", async () => {
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode("data: 1\n\ndata: 2\n\n"));
    },
    cancel() {
      cancelled = true;
    },
  });
  for await (const e of parseSse(body)) {
    assert.equal(e.data, "1");
    break;
  }
  assert.equal(cancelled, true);
});
