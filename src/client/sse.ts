/** A text/event-stream parser (WHATWG rules: id/event/data/retry fields, `:` comments, blank-line dispatch). */

export interface SseEvent {
  id: string | null;
  event: string;
  data: string;
  retry: number | null;
}

export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  let buffer = "";
  let id: string | null = null;
  let event = "";
  let data: string[] = [];
  let retry: number | null = null;
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (!done) buffer += value;
      let nl: number;
      while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
        // A CR that ends the chunk may be the first half of a CRLF split across chunks: wait for more.
        if (!done && nl === buffer.length - 1 && buffer[nl] === "\r") break;
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + (buffer.startsWith("\r\n", nl) ? 2 : 1));
        if (line === "") {
          // A block without a data line dispatches nothing (WHATWG), e.g. the opening `retry:`.
          if (data.length > 0) {
            yield { id, event: event || "message", data: data.join("\n"), retry };
          }
          event = "";
          data = [];
          retry = null;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? "" : line.slice(colon + 1);
        if (val.startsWith(" ")) val = val.slice(1);
        if (field === "id") id = val;
        else if (field === "event") event = val;
        else if (field === "data") data.push(val);
        else if (field === "retry" && /^\d+$/.test(val)) retry = Number(val);
      }
      if (done) return; // an event without its closing blank line is dropped
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
