/**
 * Whether the other tenants' sessions wait more than they did before a move's bulk work began: the
 * second signal of the bulk pace ({@link BulkPace}), beside the batch's own cost. Pure: the runner
 * polls the server once a batch and passes the count.
 *
 * Why (docs/benchmarks.md, "bench:move"): during a copy the other tenants' sessions waited on their
 * commits' WAL (`LWLock:WALWrite`, `IO:WALSync`) and on their own client (`ClientRead` while idle in
 * a transaction), never on locks; the copy batch's own cost rose only once the machine was already
 * busy enough to hurt them. So the pace also watches those waits directly: before the bulk work it
 * takes `calibrate()` polls of the quiet server as the baseline, then `busy()` is true while the mean
 * of the last `window` polls is above `factor` x that baseline plus `margin` sessions. After a
 * back-off the window starts afresh, so that one burst halves the pace once, not once per batch
 * for as long as it stays in the window.
 */
export interface NeighbourWaitsOptions {
  /** Polls the recent mean is taken over (default 10). */
  window?: number;
  /** How many times the baseline's mean counts as busy (default 2). */
  factor?: number;
  /**
   * Waiting sessions added to the threshold (default 0.1): with a quiet baseline of 0 a single
   * waiting session in one poll of ten would otherwise count as busy.
   */
  margin?: number;
}

export class NeighbourWaits {
  private readonly window: number;
  private readonly factor: number;
  private readonly margin: number;
  private baseline: number | undefined;
  private readonly recent: number[] = [];

  constructor(options: NeighbourWaitsOptions = {}) {
    const window = options.window ?? 10;
    const factor = options.factor ?? 2;
    const margin = options.margin ?? 0.1;
    if (!Number.isInteger(window) || window < 1) throw new RangeError(`window must be an integer >= 1 (got ${window})`);
    if (!(factor >= 1)) throw new RangeError(`factor must be a number >= 1 (got ${factor})`);
    if (!(margin >= 0)) throw new RangeError(`margin must be a number >= 0 (got ${margin})`);
    this.window = window;
    this.factor = factor;
    this.margin = margin;
  }

  /** Sets the quiet baseline from polls taken before the bulk work (waiting sessions per poll). */
  calibrate(polls: readonly number[]): void {
    if (polls.length === 0) throw new RangeError('calibrate needs at least one poll of the quiet server');
    for (const n of polls) checkCount(n);
    this.baseline = polls.reduce((a, b) => a + b, 0) / polls.length;
    this.recent.length = 0;
  }

  /** The quiet baseline (waiting sessions per poll), once calibrated. */
  get quietMean(): number | undefined {
    return this.baseline;
  }

  /** Counts one poll taken during the bulk work: how many other sessions were waiting. */
  observe(waiting: number): void {
    checkCount(waiting);
    this.recent.push(waiting);
    if (this.recent.length > this.window) this.recent.shift();
  }

  /**
   * Whether the other sessions wait more than in the quiet baseline: only with a baseline and a
   * full window of polls since it (or since the last back-off).
   */
  busy(): boolean {
    if (this.baseline === undefined || this.recent.length < this.window) return false;
    const mean = this.recent.reduce((a, b) => a + b, 0) / this.recent.length;
    return mean > this.baseline * this.factor + this.margin;
  }

  /** Starts the window afresh after the pace backed off on this signal. */
  reset(): void {
    this.recent.length = 0;
  }
}

function checkCount(n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`a poll's count of waiting sessions must be an integer >= 0 (got ${n})`);
}
