/**
 * Figures of a benchmark measured on one or two source trees (a baseline and this one), interleaved
 * round by round so both see the same machine load, printed as `before → after` beside each target.
 */
import { resolve } from "node:path";
import { REPO_ROOT } from "../tests/helpers/paths.ts";

export interface Tree {
  label: string;
  path: string;
}

/** This tree, preceded by `baseline` when given (e.g. GATEWAY_BENCH_BASELINE, unpacked by `git archive`). */
export function benchTrees(baseline: string | undefined): Tree[] {
  const self = { label: "this tree", path: REPO_ROOT };
  return baseline ? [{ label: "baseline", path: resolve(baseline) }, self] : [self];
}

export interface Figure {
  measure: string;
  value: number;
  unit: string;
  target: string;
  digits?: number;
}

export class Comparison {
  readonly #figures = new Map<string, { meta: Figure; byTree: Map<string, number[]> }>();

  constructor(readonly trees: Tree[]) {}

  add(tree: Tree, figure: Figure): void {
    const entry = this.#figures.get(figure.measure) ??
      { meta: figure, byTree: new Map(this.trees.map((t) => [t.label, []])) };
    this.#figures.set(figure.measure, entry);
    entry.byTree.get(tree.label)!.push(figure.value);
  }

  /** One line per figure: the median over rounds of each tree (`before → after`), then the target. */
  print(title: string, rounds: number): void {
    const fmt = (meta: Figure, values: number[]) => {
      if (!values.length) return "-";
      const sorted = [...values].sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
      return `${median.toFixed(meta.digits ?? 0)}${meta.unit ? " " + meta.unit : ""}`;
    };
    const rows = [...this.#figures.values()].map(({ meta, byTree }) => ({
      measure: meta.measure,
      value: this.trees.map((t) => fmt(meta, byTree.get(t.label)!)).join(" → "),
      target: meta.target,
    }));
    const w = [Math.max(...rows.map((r) => r.measure.length)), Math.max(...rows.map((r) => r.value.length))];
    const trees = this.trees.map((t) => t.label).join(" → ");
    console.log(`${title} (${trees}; median of ${rounds} round${rounds > 1 ? "s" : ""}, interleaved)`);
    for (const r of rows) {
      console.log(`  ${r.measure.padEnd(w[0])}  ${r.value.padStart(w[1])}  target ${r.target}`);
    }
  }
}

/** parseArgs options shared by the compared benches. */
export const COMPARE_OPTIONS = {
  store: { type: "string", default: "file,sqlite" },
  rounds: { type: "string", default: "1" },
  baseline: { type: "string" },
} as const;

/**
 * For each store (comma-separated): `rounds` rounds, each measuring every tree in turn (baseline
 * first), then that store's table.
 */
export async function compareTrees(
  options: { store: string; rounds: string; baseline?: string },
  title: (store: string) => string,
  measure: (tree: Tree, store: string, add: (tree: Tree, figure: Figure) => void) => Promise<void>,
): Promise<void> {
  const rounds = Number(options.rounds);
  const trees = benchTrees(options.baseline);
  for (const store of options.store.split(",")) {
    const table = new Comparison(trees);
    for (let round = 0; round < rounds; round++) {
      for (const tree of trees) await measure(tree, store, table.add.bind(table));
    }
    table.print(title(store), rounds);
  }
}
