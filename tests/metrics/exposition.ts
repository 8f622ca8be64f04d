/** A strict parser of the Prometheus text format 0.0.4, used to check what /metrics emits. */
import assert from "node:assert/strict";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const HELP = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/;
const TYPE = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/;
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/;

/** Parses every line (failing on any invalid one) and checks each sample belongs to a declared family. */
export function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  assert.ok(text.endsWith("\n"), "exposition ends with a newline");
  const types = new Map<string, string>();
  const helped = new Set<string>();
  const samples: Sample[] = [];
  for (const line of text.slice(0, -1).split("\n")) {
    let m: RegExpExecArray | null;
    if ((m = HELP.exec(line))) {
      assert.ok(!helped.has(m[1]), `duplicate HELP for ${m[1]}`);
      helped.add(m[1]);
    } else if ((m = TYPE.exec(line))) {
      assert.ok(!types.has(m[1]), `duplicate TYPE for ${m[1]}`);
      types.set(m[1], m[2]);
    } else if ((m = SAMPLE.exec(line))) {
      const labels: Record<string, string> = {};
      let rest = m[3] ?? "";
      while (rest.length > 0) {
        const l = LABEL.exec(rest);
        assert.ok(l, `bad label set in line: ${line}`);
        labels[l[1]] = l[2].replace(/\\(.)/g, (_, ch) => (ch === "n" ? "\n" : ch));
        rest = rest.slice(l[0].length);
      }
      const value = m[4] === "+Inf" ? Infinity : m[4] === "-Inf" ? -Infinity : Number(m[4]);
      assert.ok(m[4] === "NaN" || !Number.isNaN(value), `bad value in line: ${line}`);
      const family = familyOf(m[1], types);
      assert.ok(family, `sample ${m[1]} has no preceding TYPE line`);
      samples.push({ name: m[1], labels, value });
    } else {
      assert.fail(`invalid exposition line: ${JSON.stringify(line)}`);
    }
  }
  return { types, samples };
}

function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, "");
  return types.get(base) === "histogram" ? base : undefined;
}
