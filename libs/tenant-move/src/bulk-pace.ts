/**
 * The pace of a move's bulk work (the copy, the verification's reads, the removal of a pooled
 * copy): how many rows the next batch takes and how long to wait after each, so that the tenants
 * sharing the servers keep their latency. Pure: the runner times each batch and passes the clock.
 *
 * What bench:move measured (docs/benchmarks.md, "bench:move"): the other tenants' requests do not
 * wait on locks or on the CPU on average during a copy, but on bursts - a batch's commit flushing
 * its WAL while theirs queue on WALWrite, the bulk session and its client busy for the length of a
 * batch. So the pace
 *
 * - keeps batches short: `batchMs` of work at the current pace (1,000 rows at 20,000 rows/s),
 *   never fewer than `minBatch` or more than `maxBatch`;
 * - never takes more than `maxDuty` of the wall clock: after a batch of d ms it waits at least
 *   d * (1 - maxDuty) / maxDuty, so a slower server (a busier one) gets longer pauses by itself;
 * - backs off when the server turns busy (AIMD): a batch whose cost per row is more than `slowdown`
 *   times the median of the last `window` batches, or a batch after which the other tenants'
 *   sessions were found waiting more than before the move ({@link NeighbourWaits}, when the runner
 *   can see them), halves the pace (not below `floor`); every other
 *   batch adds back `ceiling / rampMs` per ms since the last one, so the pace climbs back to the
 *   ceiling in `rampMs` once the server is quiet again;
 * - never goes above `ceiling` (TENANT_MOVE_ROWS_PER_SECOND) on average.
 */
export interface BulkPaceOptions {
  /** Rows a second at most (TENANT_MOVE_ROWS_PER_SECOND); 0: unpaced (largest batches, no waits). */
  ceiling: number;
  /** The pace never drops below this many rows a second (default: ceiling / 20, at least 1). */
  floor?: number;
  /** Work time a batch aims at, ms (default 50). */
  batchMs?: number;
  /**
   * Fewest rows a batch takes (default 500): below it the round trips and the commit of each batch
   * cost more per row than the rows themselves.
   */
  minBatch?: number;
  /** Most rows a batch takes, and the batch when unpaced (default 5,000). */
  maxBatch?: number;
  /** Highest share of the wall clock the bulk work may take, in (0, 1] (default 0.5). */
  maxDuty?: number;
  /**
   * A batch this many times slower per row than the recent median means a busy server (default 2).
   * The median, not the best: the best of 20 short batches is an outlier, and against it one batch
   * in six looked slow on an idle server (bench:move, 2026-12-07 04:25 UTC).
   */
  slowdown?: number;
  /** How many recent batches the median cost per row is taken from (default 20). */
  window?: number;
  /** How long the pace takes to climb from nothing back to the ceiling, ms (default 10,000). */
  rampMs?: number;
}

/** What the pace did, for progress and the benchmark. */
export interface BulkPaceReport {
  /** Rows a second the pace allows now. */
  rowsPerSecond: number;
  batches: number;
  /** Of those, batches that found no rows (paced by the duty alone: their work time, no cost per row). */
  emptyBatches: number;
  /** Batches that found the server busy (and halved the pace). */
  backoffs: number;
  /** Of those, the back-offs on the other tenants' waits alone (the batch itself was not slow). */
  neighbourBackoffs: number;
  /** The lowest pace it went down to, rows a second. */
  lowestRowsPerSecond: number;
  /** Time spent waiting between batches, ms. */
  waitedMs: number;
}

export class BulkPace {
  private readonly ceiling: number;
  private readonly floor: number;
  private readonly batchMs: number;
  private readonly minBatch: number;
  private readonly maxBatch: number;
  private readonly maxDuty: number;
  private readonly slowdown: number;
  private readonly window: number;
  private readonly rampMs: number;
  private rate: number;
  private readonly costs: number[] = [];
  private last: number | undefined;
  private batches = 0;
  private backoffs = 0;
  private neighbourBackoffs = 0;
  private lowest: number;
  private waited = 0;
  private emptyBatches = 0;

  constructor(options: BulkPaceOptions) {
    const { ceiling } = options;
    if (!Number.isFinite(ceiling) || ceiling < 0) throw new RangeError(`the pace's ceiling must be a number of rows a second >= 0 (got ${ceiling})`);
    const maxDuty = options.maxDuty ?? 0.5;
    if (!(maxDuty > 0 && maxDuty <= 1)) throw new RangeError(`maxDuty must be in (0, 1] (got ${maxDuty})`);
    this.ceiling = ceiling;
    this.floor = Math.min(ceiling, options.floor ?? Math.max(1, ceiling / 20));
    this.batchMs = options.batchMs ?? 50;
    this.minBatch = options.minBatch ?? 500;
    this.maxBatch = Math.max(this.minBatch, options.maxBatch ?? 5000);
    this.maxDuty = maxDuty;
    this.slowdown = options.slowdown ?? 2;
    this.window = options.window ?? 20;
    this.rampMs = options.rampMs ?? 10_000;
    this.rate = ceiling;
    this.lowest = ceiling;
  }

  /** Whether the work is paced at all. */
  get paced(): boolean {
    return this.ceiling > 0;
  }

  /** Rows the next batch should take. */
  batchRows(): number {
    if (!this.paced) return this.maxBatch;
    return Math.min(this.maxBatch, Math.max(this.minBatch, Math.round((this.rate * this.batchMs) / 1000)));
  }

  /**
   * Counts a batch of `rows` that took `workMs` and ended at `now` (ms, any monotonic clock) and
   * returns how long to wait before the next one, ms. `neighboursBusy`: the other tenants' sessions
   * wait more than before the move ({@link NeighbourWaits.busy}); it backs off like a slow batch.
   */
  done(rows: number, workMs: number, now: number, neighboursBusy = false): number {
    if (!this.paced) return 0;
    this.batches += 1;
    if (rows <= 0) return this.emptyBatch(workMs);
    const cost = Math.max(workMs, 0.01) / rows;
    const typical = this.costs.length > 0 ? median(this.costs) : cost;
    this.costs.push(cost);
    if (this.costs.length > this.window) this.costs.shift();
    const elapsed = this.last === undefined ? 0 : Math.max(0, now - this.last);
    this.last = now;
    // A batch of the fewest rows carries most of its fixed cost (round trips): judged only if fuller.
    const slowBatch = this.costs.length > 1 && cost > typical * this.slowdown && rows >= this.minBatch;
    if (slowBatch || neighboursBusy) {
      this.rate = Math.max(this.floor, this.rate / 2);
      this.backoffs += 1;
      if (!slowBatch) this.neighbourBackoffs += 1;
    } else {
      this.rate = Math.min(this.ceiling, this.rate + (this.ceiling * elapsed) / this.rampMs);
    }
    this.lowest = Math.min(this.lowest, this.rate);
    const atPace = (rows * 1000) / this.rate - workMs;
    const atDuty = (workMs * (1 - this.maxDuty)) / this.maxDuty;
    const wait = Math.max(0, atPace, atDuty);
    this.waited += wait;
    return wait;
  }

  /**
   * A batch that found no rows (a stretch of the cleanup's sweep holding none of the tenant's) still
   * read the server for `workMs`: it waits out its share of the duty like any batch, so a run of
   * them is not a burst of back-to-back reads. It says nothing about the cost per row (no cost
   * recorded, no back-off, no climb of the pace); the climb counts from the last batch of rows.
   */
  private emptyBatch(workMs: number): number {
    this.emptyBatches += 1;
    const wait = Math.max(0, (Math.max(workMs, 0) * (1 - this.maxDuty)) / this.maxDuty);
    this.waited += wait;
    return wait;
  }

  report(): BulkPaceReport {
    return {
      rowsPerSecond: Math.round(this.rate),
      batches: this.batches,
      emptyBatches: this.emptyBatches,
      backoffs: this.backoffs,
      neighbourBackoffs: this.neighbourBackoffs,
      lowestRowsPerSecond: Math.round(this.lowest),
      waitedMs: Math.round(this.waited),
    };
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
