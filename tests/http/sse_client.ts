/** A minimal SSE reader for tests: yields parsed frames (and the raw text of each) from a fetch response. */

export interface SseFrame {
  raw: string;
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
  comment?: string;
}

export function parseFrame(raw: string): SseFrame {
  const frame: SseFrame = { raw };
  for (const line of raw.split("\n")) {
    if (line.startsWith(":")) frame.comment = line.slice(1).trim();
    else {
      const i = line.indexOf(":");
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
      if (field === "id" || field === "event" || field === "data" || field === "retry") frame[field] = value;
    }
  }
  return frame;
}

/** Reads frames until the server closes the stream or `stop(frame)` returns true (then cancels it). */
export async function readFrames(
  res: Response,
  stop: (frame: SseFrame) => boolean = () => false,
): Promise<{ frames: SseFrame[]; closedByServer: boolean }> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const frames: SseFrame[] = [];
  let buf = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { frames, closedByServer: true };
      buf += value;
      let end;
      while ((end = buf.indexOf("\n\n")) >= 0) {
        const frame = parseFrame(buf.slice(0, end));
        buf = buf.slice(end + 2);
        frames.push(frame);
        if (stop(frame)) {
          await reader.cancel();
          return { frames, closedByServer: false };
        }
      }
    }
  } finally {
    reader.releaseLock();
  }
}
