import { Counter, type CounterConfiguration } from 'prom-client';

/**
 * A prom-client Counter for the hot path: `inc(a, b)` adds to a plain map keyed by the label
 * values, and the sums reach the Counter when the registry is scraped (its `collect` hook), one
 * `inc` per label set and scrape instead of one per event.
 *
 * Why: prom-client hashes and validates the label object on every `inc`; at thousands of job state
 * changes a second that was most of the scheduler's metrics cost (docs/benchmarks.md,
 * bench:dispatch). What a scrape shows is the same: every increment made before the scrape.
 *
 *   const transitions = new BufferedCounter({ name: 'x_total', help: '...', labelNames: ['tenant', 'state'] as const, registers });
 *   transitions.inc(tenantLabel, 'running');
 */
export class BufferedCounter<T extends string> {
  /** The registered Counter (read it, or increment it directly: both add up). */
  readonly counter: Counter<T>;
  private pending = new Map<string, { values: readonly string[]; n: number }>();
  private readonly names: readonly T[];

  constructor(config: Omit<CounterConfiguration<T>, 'collect'> & { labelNames: readonly T[] }) {
    this.names = config.labelNames;
    const drain = () => this.drain();
    this.counter = new Counter<T>({
      ...config,
      collect() {
        drain();
      },
    });
  }

  /** Adds 1 to the series of these label values, given in `labelNames` order (or as prom-client's label object). */
  inc(...values: string[]): void;
  inc(labels: Record<T, string>): void;
  inc(...args: Array<string | Record<T, string>>): void {
    const first = args[0];
    if (typeof first === 'object')
      this.add(
        this.names.map((name) => first[name]),
        1,
      );
    else this.add(args as string[], 1);
  }

  /** Adds `n` to the series of `values` (in `labelNames` order). */
  add(values: readonly string[], n: number): void {
    const key = values.length === 1 ? (values[0] as string) : values.join('\u0000');
    const entry = this.pending.get(key);
    if (entry) entry.n += n;
    else this.pending.set(key, { values, n });
  }

  /** Moves the pending sums into the Counter (a scrape does it; tests may call it). */
  drain(): void {
    if (this.pending.size === 0) return;
    const pending = this.pending;
    this.pending = new Map();
    const names = this.names;
    for (const { values, n } of pending.values()) {
      const labels: Partial<Record<T, string>> = {};
      for (let i = 0; i < names.length; i += 1) labels[names[i] as T] = values[i] as string;
      this.counter.inc(labels, n);
    }
  }
}
