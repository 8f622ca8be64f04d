/**
 * Summarises a V8 `.cpuprofile` (from `deno run --cpu-prof`): the top functions by self time and by
 * inclusive time (a function counted once per sample even when it recurses), and self time per file.
 *
 *   deno run -A bench/cpu_profile.ts <file.cpuprofile> [--top 25] [--match src/]
 *
 * `--match` keeps only functions whose file contains the text in the inclusive table (e.g. `src/`
 * to see where the gateway's own code spends its time).
 */
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** `name (file:line)` with the file shortened to the part after the project or package root. */
function label(frame: ProfileNode["callFrame"]): string {
  const url = frame.url.replace(/^file:\/\//, "").replace(/^.*\/(src|bench|tests)\//, "$1/")
    .replace(/^.*\/npm\/registry\.npmjs\.org\//, "npm:");
  const name = frame.functionName || "(anonymous)";
  return url ? `${name} (${url}:${frame.lineNumber + 1})` : name;
}

function fileOf(frame: ProfileNode["callFrame"]): string {
  return label({ ...frame, functionName: "", lineNumber: -1 }).replace(/ \(|:0\)$/g, "") || "(native)";
}

export function summarise(profile: CpuProfile, top: number, match: string | undefined): string {
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    const leaf = byId.get(id)!.callFrame;
    self.set(label(leaf), (self.get(label(leaf)) ?? 0) + us);
    files.set(fileOf(leaf), (files.get(fileOf(leaf)) ?? 0) + us);
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const key = label(byId.get(n)!.callFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  });
  const idle = [...self].filter(([k]) => k.startsWith("(idle)")).reduce((s, [, v]) => s + v, 0);
  const busy = total - idle;
  const table = (title: string, m: Map<string, number>, keep: (k: string) => boolean) => {
    const rows = [...m].filter(([k]) => keep(k) && !k.startsWith("(idle)") && k !== "(root)")
      .sort((a, b) => b[1] - a[1]).slice(0, top);
    return [
      `${title}:`,
      ...rows.map(([k, us]) => `  ${(us / 1000).toFixed(0).padStart(7)} ms ${pct(us, busy)}  ${k}`),
    ].join("\n");
  };
  return [
    `profile: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (not idle)`,
    table("self time", self, () => true),
    table("self time by file", files, () => true),
    table("inclusive time", inclusive, (k) => !match || k.includes(match)),
  ].join("\n");
}

const pct = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1).padStart(5)}%`;

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: { top: { type: "string", default: "25" }, match: { type: "string" } },
  });
  if (positionals.length !== 1) {
    console.error("usage: deno run -A bench/cpu_profile.ts <file.cpuprofile> [--top 25] [--match src/]");
    Deno.exit(2);
  }
  const profile = JSON.parse(await Deno.readTextFile(positionals[0])) as CpuProfile;
  console.log(summarise(profile, Number(values.top), values.match));
}
