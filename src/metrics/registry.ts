/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text
 * exposition format 0.0.4 (`# HELP` / `# TYPE` lines, escaped label values, cumulative buckets).
 * Gauges may have a collector that refreshes them right before each scrape.
 */
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type Labels = Record<string, string>;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

abstract class Metric {
  /** Series by the JSON of their label values (in `labelNames` order). */
  protected readonly series = new Map<string, string[]>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly type: "counter" | "gauge" | "histogram",
  ) {
    if (!NAME.test(name)) throw new Error(`invalid metric name ${JSON.stringify(name)}`);
    for (const l of labelNames) {
      if (!LABEL.test(l) || l.startsWith("__") || l === "le") {
        throw new Error(`invalid label name ${JSON.stringify(l)}`);
      }
    }
  }

  /**
   * The series key for `labels` (registering the series when `create`); throws on missing or unknown
   * label names (a programming error).
   */
  protected key(labels: Labels, create = true): string {
    const names = Object.keys(labels);
    if (names.length !== this.labelNames.length || names.some((n) => !this.labelNames.includes(n))) {
      throw new Error(`${this.name} takes labels {${this.labelNames.join(",")}}, got {${names.join(",")}}`);
    }
    const values = this.labelNames.map((n) => String(labels[n]));
    const key = JSON.stringify(values);
    if (create && !this.series.has(key)) this.series.set(key, values);
    return key;
  }

  header(): string[] {
    return [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
  }

  protected labelText(values: string[], extra?: [string, string]): string {
    const pairs = this.labelNames.map((n, i) => `${n}="${escapeLabel(values[i])}"`);
    if (extra) pairs.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
    return pairs.length ? `{${pairs.join(",")}}` : "";
  }

  abstract lines(): string[];
}

/** A metric holding one number per series (counters and gauges). */
abstract class ValueMetric extends Metric {
  readonly #values = new Map<string, number>();

  protected add(labels: Labels, by: number): void {
    this.addAt(this.key(labels), by);
  }

  protected addAt(key: string, by: number): void {
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }

  protected put(labels: Labels, value: number): void {
    this.#values.set(this.key(labels), value);
  }

  get(labels: Labels = {}): number {
    return this.#values.get(this.key(labels, false)) ?? 0;
  }

  lines(): string[] {
    if (this.labelNames.length === 0 && this.series.size === 0) return [`${this.name} 0`];
    return [...this.series].map(([key, values]) =>
      `${this.name}${this.labelText(values)} ${formatValue(this.#values.get(key) ?? 0)}`
    );
  }
}

export class Counter extends ValueMetric {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, labelNames, "counter");
  }

  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0)) throw new Error(`${this.name}: a counter only goes up (got ${by})`);
    this.add(labels, by);
  }

  /** `inc(labels)` with the series resolved once, for hot paths. */
  bind(labels: Labels): () => void {
    const key = this.key(labels);
    return () => this.addAt(key, 1);
  }
}

export class Gauge extends ValueMetric {
  readonly collect: (() => void | Promise<void>) | undefined;

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    collect?: (gauge: Gauge) => void | Promise<void>,
  ) {
    super(name, help, labelNames, "gauge");
    this.collect = collect && (() => collect(this));
  }

  set(labels: Labels, value: number): void {
    this.put(labels, value);
  }

  inc(labels: Labels = {}, by = 1): void {
    this.add(labels, by);
  }

  dec(labels: Labels = {}, by = 1): void {
    this.add(labels, -by);
  }
}

/** Default buckets (seconds), as in the Prometheus client libraries. */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface HistogramSeries {
  /** Per-bucket (non-cumulative) counts; the last slot is +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Metric {
  readonly buckets: readonly number[];
  readonly #data = new Map<string, HistogramSeries>();

  constructor(name: string, help: string, labelNames: readonly string[] = [], buckets = DEFAULT_BUCKETS) {
    super(name, help, labelNames, "histogram");
    const sorted = [...new Set(buckets)].filter(Number.isFinite).sort((a, b) => a - b);
    if (sorted.length === 0) throw new Error(`${name}: histogram needs at least one finite bucket`);
    this.buckets = sorted;
  }

  observe(labels: Labels, value: number): void {
    this.#observeAt(this.key(labels), value);
  }

  /** `observe(labels, value)` with the series resolved once, for hot paths. */
  bind(labels: Labels): (value: number) => void {
    const key = this.key(labels);
    return (value) => this.#observeAt(key, value);
  }

  #observeAt(key: string, value: number): void {
    let data = this.#data.get(key);
    if (!data) {
      this.#data.set(key, data = { counts: new Array(this.buckets.length + 1).fill(0), sum: 0, count: 0 });
    }
    const index = this.buckets.findIndex((b) => value <= b);
    data.counts[index === -1 ? this.buckets.length : index] += 1;
    data.sum += value;
    data.count += 1;
  }

  lines(): string[] {
    const out: string[] = [];
    for (const [key, values] of this.series) {
      const data = this.#data.get(key);
      if (!data) continue;
      let cumulative = 0;
      this.buckets.forEach((b, i) => {
        cumulative += data.counts[i];
        out.push(`${this.name}_bucket${this.labelText(values, ["le", formatValue(b)])} ${cumulative}`);
      });
      out.push(`${this.name}_bucket${this.labelText(values, ["le", "+Inf"])} ${data.count}`);
      out.push(`${this.name}_sum${this.labelText(values)} ${formatValue(data.sum)}`);
      out.push(`${this.name}_count${this.labelText(values)} ${data.count}`);
    }
    return out;
  }
}

export class Registry {
  readonly #metrics = new Map<string, Metric>();

  register<M extends Metric>(metric: M): M {
    if (this.#metrics.has(metric.name)) throw new Error(`metric ${metric.name} registered twice`);
    this.#metrics.set(metric.name, metric);
    return metric;
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.register(new Counter(name, help, labelNames));
  }

  gauge(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    collect?: (gauge: Gauge) => void | Promise<void>,
  ): Gauge {
    return this.register(new Gauge(name, help, labelNames, collect));
  }

  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets?: number[]): Histogram {
    return this.register(new Histogram(name, help, labelNames, buckets));
  }

  /** Runs the gauge collectors, then renders every metric (one trailing newline, as scrapers expect). */
  async render(): Promise<string> {
    const metrics = [...this.#metrics.values()];
    await Promise.all(metrics.map((m) => m instanceof Gauge ? m.collect?.() : undefined));
    return metrics.flatMap((m) => [...m.header(), ...m.lines()]).join("\n") + "\n";
  }
}

function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function escapeLabel(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
