/** SSE frames match upstream byte for byte (Python json.dumps spacing and ASCII escaping). */
import assert from "node:assert/strict";
import { doneFrame, keepAliveFrame, pyJson, retryFrame } from "../../src/http/sse_format.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("pyJson matches Python json.dumps defaults", () => {
  assert.equal(pyJson({ a: [1, 2.5, null], b: { c: true } }), '{"a": [1, 2.5, null], "b": {"c": true}}');
  assert.equal(pyJson('é✓ "q"\n'), '"\\u00e9\\u2713 \\"q\\"\\n"');
  assert.equal(pyJson("😀"), '"\\ud83d\\ude00"');
  assert.equal(pyJson({}), "{}");
  assert.equal(pyJson([]), "[]");
});

Deno.test("control frames", () => {
  assert.equal(
    text(doneFrame("r1", 3)),
    'event: done\ndata: {"run_id": "r1", "cursor": 3, "status": "terminal"}\n\n',
  );
  assert.equal(text(keepAliveFrame), ": keep-alive\n\n");
  assert.equal(text(retryFrame(2000)), "retry: 2000\n\n");
});
